;;; stele-merkle.el --- RFC 6962 proofs and checkpoints  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Verifying the log without trusting the collector: leaf and node hashes
;; (RFC 6962), the root an inclusion proof leads to, consistency between
;; two tree sizes (RFC 9162 section 2.1.4), and the body of a C2SP
;; tlog-checkpoint.  Computing is kept apart from checking: the
;; `stele-merkle-root-from-*' functions compute, the `stele-merkle-verify-*'
;; functions compare and signal `stele-merkle-mismatch'.
;;
;; Every hash and proof here comes from the collector: hostile until the
;; computed root matches one we hold.  The checkpoint's Ed25519 signature
;; is not checked: Emacs has no Ed25519.

;;; Code:

(require 'cl-lib)

(define-error 'stele-merkle-error "Invalid Merkle proof")
(define-error 'stele-merkle-mismatch "Merkle root mismatch" 'stele-merkle-error)

(defun stele-merkle--sha256 (bytes)
  "The binary SHA-256 of the unibyte string BYTES."
  (secure-hash 'sha256 bytes nil nil t))

(defun stele-merkle-leaf-hash (entry)
  "The RFC 6962 hash of the leaf ENTRY (unibyte)."
  (stele-merkle--sha256 (concat (unibyte-string 0) entry)))

(defun stele-merkle--node (left right)
  "The RFC 6962 hash of the node with children LEFT and RIGHT."
  (stele-merkle--sha256 (concat (unibyte-string 1) left right)))

(defun stele-merkle--bit-length (n)
  "The number of bits needed to write the natural number N."
  (let ((bits 0))
    (while (> n 0) (setq n (ash n -1) bits (1+ bits)))
    bits))

(defun stele-merkle--trailing-zeros (n)
  "The number of trailing zero bits of the positive N."
  (let ((zeros 0))
    (while (zerop (logand n 1)) (setq n (ash n -1) zeros (1+ zeros)))
    zeros))

(defun stele-merkle--decompose (index size)
  "The (INNER . BORDER) split of the inclusion proof of INDEX in tree SIZE."
  (let ((inner (stele-merkle--bit-length (logxor index (1- size)))))
    (cons inner (logcount (ash index (- inner))))))

(defun stele-merkle--chain-inner (seed proof index)
  "Fold the inner PROOF hashes into SEED along the path of INDEX."
  (cl-loop for h in proof for i from 0
           do (setq seed (if (zerop (logand (ash index (- i)) 1))
                             (stele-merkle--node seed h)
                           (stele-merkle--node h seed))))
  seed)

(defun stele-merkle--chain-inner-right (seed proof index)
  "Fold only the PROOF hashes left of the path of INDEX into SEED."
  (cl-loop for h in proof for i from 0
           unless (zerop (logand (ash index (- i)) 1))
           do (setq seed (stele-merkle--node h seed)))
  seed)

(defun stele-merkle--chain-border-right (seed proof)
  "Fold the border PROOF hashes into SEED."
  (dolist (h proof seed)
    (setq seed (stele-merkle--node h seed))))

(defun stele-merkle-root-from-inclusion (index size leaf-hash proof)
  "The root the inclusion PROOF of LEAF-HASH at INDEX in tree SIZE gives.
PROOF is a list of binary hashes.  Signals `stele-merkle-error' when
the proof has the wrong shape."
  (unless (and (natnump index) (< index size))
    (signal 'stele-merkle-error (list (format "index %s is beyond size %s" index size))))
  (unless (cl-every (lambda (h) (= (length h) 32)) (cons leaf-hash proof))
    (signal 'stele-merkle-error (list "a hash is not 32 bytes")))
  (let* ((split (stele-merkle--decompose index size))
         (inner (car split)))
    (unless (= (length proof) (+ inner (cdr split)))
      (signal 'stele-merkle-error (list (format "an inclusion proof of %d hashes, not %d"
                                                (length proof) (+ inner (cdr split))))))
    (stele-merkle--chain-border-right
     (stele-merkle--chain-inner leaf-hash (cl-subseq proof 0 inner) index)
     (nthcdr inner proof))))

(defun stele-merkle-verify-inclusion (index size leaf-hash proof root)
  "Signal unless PROOF puts LEAF-HASH at INDEX in the tree SIZE with ROOT."
  (unless (equal (stele-merkle-root-from-inclusion index size leaf-hash proof) root)
    (signal 'stele-merkle-mismatch (list (format "leaf %d is not in the tree of size %d" index size)))))

(defun stele-merkle-verify-consistency (size1 size2 proof root1 root2)
  "Signal unless PROOF proves tree SIZE1 (ROOT1) a prefix of SIZE2 (ROOT2)."
  (unless (cl-every (lambda (h) (= (length h) 32)) proof)
    (signal 'stele-merkle-error (list "a proof hash is not 32 bytes")))
  (cond
   ((= size1 0)                         ; as @stele/log: nothing to prove
    (signal 'stele-merkle-error (list "a consistency proof from the empty tree proves nothing")))
   ((< size2 size1)
    (signal 'stele-merkle-mismatch (list (format "the tree shrank from %d to %d" size1 size2))))
   ((= size1 size2)
    (when proof (signal 'stele-merkle-error (list "a proof between equal sizes must be empty")))
    (unless (equal root1 root2)
      (signal 'stele-merkle-mismatch (list (format "two roots for size %d" size1)))))
   ((null proof) (signal 'stele-merkle-error (list "the proof is empty")))
   (t
    (let* ((split (stele-merkle--decompose (1- size1) size2))
           (shift (stele-merkle--trailing-zeros size1))
           (inner (- (car split) shift))
           (border (cdr split))
           (whole (= size1 (ash 1 shift)))
           (seed (if whole root1 (car proof)))
           (rest (if whole proof (cdr proof))))
      (unless (= (length rest) (+ inner border))
        (signal 'stele-merkle-error (list (format "a consistency proof of %d hashes, not %d"
                                                  (length proof) (+ inner border (if whole 0 1))))))
      (let* ((mask (ash (1- size1) (- shift)))
             (inner-proof (cl-subseq rest 0 inner))
             (border-proof (nthcdr inner rest))
             (hash1 (stele-merkle--chain-border-right
                     (stele-merkle--chain-inner-right seed inner-proof mask) border-proof))
             (hash2 (stele-merkle--chain-border-right
                     (stele-merkle--chain-inner seed inner-proof mask) border-proof)))
        (unless (equal hash1 root1)
          (signal 'stele-merkle-mismatch (list (format "the proof does not lead to the root of size %d" size1))))
        (unless (equal hash2 root2)
          (signal 'stele-merkle-mismatch (list (format "the proof does not lead to the root of size %d" size2)))))))))

(defun stele-merkle-parse-checkpoint (note)
  "The (ORIGIN SIZE ROOT) of the checkpoint in the signed NOTE, ROOT binary.
Only the body is read; the signature lines are not checked."
  (let ((lines (split-string note "\n")))
    (unless (and (>= (length lines) 3)
                 (string-match-p "\\`[0-9]+\\'" (nth 1 lines))
                 (string-match-p "\\`[A-Za-z0-9+/]+=*\\'" (nth 2 lines)))
      (signal 'stele-merkle-error (list "not a tlog checkpoint")))
    (let ((root (base64-decode-string (nth 2 lines))))
      (unless (= (length root) 32) (signal 'stele-merkle-error (list "the root is not 32 bytes")))
      (list (nth 0 lines) (string-to-number (nth 1 lines)) root))))

(provide 'stele-merkle)
;;; stele-merkle.el ends here
