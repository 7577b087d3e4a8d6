;;; stele-verify.el --- Check that the log holds what this Emacs delivered  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; `stele-verify-receipts' fetches each delivered event with its inclusion
;; proof (GET /v1/events/ID) and checks, in Emacs:
;;
;; - the record is the event as sent: the SHA-256 of its sent form
;;   (store fields removed, claimed actor put back) equals the hash kept
;;   in the receipt when the 201 came;
;; - its index is the one the collector answered then;
;; - the leaf hash is SHA-256(0 || canonical record);
;; - the inclusion proof leads to the root of the checkpoint served;
;;
;; and that every checkpoint it meets, the current one (GET /v1/log) and
;; the last ones this Emacs saw and verified, are consistent with each
;; other (GET /v1/proof/consistency).  Any mismatch is a loud warning.
;; The checkpoints' Ed25519 signatures are not checked (Emacs has no
;; Ed25519): run `stele verify' with the verifier key for that.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-http)
(require 'stele-merkle)

(defcustom stele-verify-count 50
  "How many of the latest receipts `stele-verify-receipts' checks."
  :type 'integer
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defun stele--sent-form (record)
  "The event as its device sent it, from the stored RECORD (docs/EVENT.md)."
  (let* ((event (cl-remove-if (lambda (c) (memq (car c) '(v received index submitter))) record))
         (details (alist-get 'details event))
         (claimed (alist-get 'claimedActor details)))
    (when (and details (listp details))
      (when claimed (setf (alist-get 'actor event) claimed))
      (setq details (cl-remove-if (lambda (c) (memq (car c) '(claimedActor groupsOverage))) details))
      (setq event (cl-remove 'details event :key #'car))
      (when details (setq event (append event `((details . ,details))))))
    event))

(defun stele--checkpoint-of (note)
  "The (SIZE . ROOT) of the signed checkpoint NOTE."
  (let ((parsed (stele-merkle-parse-checkpoint note)))
    (cons (nth 1 parsed) (nth 2 parsed))))

(defun stele--check-event (receipt answer)
  "Problems of the collector's ANSWER for the RECEIPT (ID INDEX HASH): a list."
  (pcase-let* ((`(,id ,index ,hash) receipt)
               (record (stele-json-get answer 'event))
               (problems nil))
    (condition-case err
        (let* ((entry (stele-json-bytes record))
               (leaf (stele-merkle-leaf-hash entry))
               (checkpoint (stele--checkpoint-of (stele-json-get answer 'checkpoint)))
               (size (stele-json-get answer 'size)))
          (unless (equal (stele--sha256-hex (stele-json-bytes (stele--sent-form record))) hash)
            (push "the stored event is not the event sent" problems))
          (unless (eql (stele-json-get answer 'index) index)
            (push (format "stored at %s, not at %s as the collector said" (stele-json-get answer 'index) index)
                  problems))
          (unless (equal (base64-encode-string leaf) (stele-json-get answer 'leafHash))
            (push "the leaf hash does not match the record" problems))
          (unless (eql size (car checkpoint))
            (push "the proof is not for the checkpoint served" problems))
          (stele-merkle-verify-inclusion (stele-json-get answer 'index) size leaf
                                         (mapcar #'base64-decode-string (stele-json-get answer 'proof))
                                         (cdr checkpoint)))
      (error (push (format "%s: %s" id (error-message-string err)) problems)))
    (mapcar (lambda (p) (format "%s: %s" id p)) (nreverse problems))))

(defun stele--verify-chain (checkpoints callback)
  "Check each of CHECKPOINTS ((SIZE . ROOT) ...) is consistent with the next.
CALLBACK gets the list of problems."
  (let ((sorted (cl-sort (cl-remove-duplicates (copy-sequence checkpoints) :test #'equal) #'< :key #'car))
        (problems nil))
    (cl-labels ((step (list)
                      (if (null (cdr list))
                          (funcall callback (nreverse problems))
                        (let ((a (car list)) (b (cadr list)))
                          (if (= (car a) (car b))
                              (progn (unless (equal (cdr a) (cdr b))
                                       (push (format "two different roots for size %d: the log forked" (car a)) problems))
                                     (step (cdr list)))
                            (stele--api (format "/v1/proof/consistency?from=%d&to=%d" (car a) (car b))
                                        :callback
                                        (lambda (status answer)
                                          (if (not (eql status 200))
                                              (push (format "no consistency proof from %d to %d (%s)" (car a) (car b) status)
                                                    problems)
                                            (condition-case err
                                                (stele-merkle-verify-consistency
                                                 (car a) (car b)
                                                 (mapcar #'base64-decode-string (stele-json-get answer 'proof))
                                                 (cdr a) (cdr b))
                                              (error (push (format "sizes %d to %d: %s" (car a) (car b)
                                                                   (error-message-string err))
                                                           problems))))
                                          (step (cdr list)))))))))
      (step sorted))))

(defun stele-verify-receipts-async (callback &optional all)
  "Verify the latest receipts (ALL of them with ALL) and call CALLBACK.
CALLBACK gets a plist: :checked (events), :problems (strings),
:checkpoint ((SIZE . ROOT) verified as current); or, when the
credential may not read the log (an ingest token), :unchecked (why)
and no problems: nothing was checked, and nothing found wrong."
  (let* ((receipts (stele--receipts (unless all stele-verify-count)))
         (state (stele--state))
         (known (delq nil (mapcar (lambda (k) (let ((note (plist-get state k)))
                                                (and note (ignore-errors (stele--checkpoint-of note)))))
                                  '(:checkpoint-seen :checkpoint-verified))))
         (checkpoints known)
         (problems nil)
         (current nil))
    (cl-labels ((finish ()
                        (stele--verify-chain
                         checkpoints
                         (lambda (more)
                           (setq problems (append problems more))
                           (when (and (null problems) current)
                             (stele--state-put :checkpoint-verified current :checkpoint-seen current))
                           (funcall callback (list :checked (length receipts) :problems problems
                                                   :checkpoint (and current (stele--checkpoint-of current)))))))
                (events (rest)
                        (if (null rest)
                            (finish)
                          (stele--api (concat "/v1/events/" (car (car rest))) ; ids are path-safe: [A-Za-z0-9._:@/+=-]
                                      :callback
                                      (lambda (status answer)
                                        (if (not (eql status 200))
                                            (push (format "%s: not in the log (%s)" (car (car rest)) status) problems)
                                          (setq problems (append problems (stele--check-event (car rest) answer)))
                                          (ignore-errors
                                            (push (stele--checkpoint-of (stele-json-get answer 'checkpoint)) checkpoints)))
                                        (events (cdr rest)))))))
      (stele--api "/v1/log"
                  :callback (lambda (status answer)
                              (cond
                               ((memq status '(401 403))
                                (funcall callback
                                         (list :checked 0 :problems nil
                                               :unchecked (format "the credential may not read the log (%s %s): verifying needs a login (M-x stele-login) or a token with scope read"
                                                                  status (or (stele-json-get answer 'error 'code) "")))))
                               ((not (eql status 200))
                                (funcall callback (list :checked 0 :problems
                                                        (list (format "cannot read the log: %s"
                                                                      (or status answer))))))
                               (t
                                (setq current (stele-json-get answer 'checkpoint))
                                (push (stele--checkpoint-of current) checkpoints)
                                (events receipts))))))))

;;;###autoload
(defun stele-verify-receipts (&optional all)
  "Check that the log has the events this Emacs delivered, unchanged.
Check the latest `stele-verify-count' receipts (with prefix argument
ALL, every one): each event's inclusion proof, and the consistency of
the log's current checkpoint with the last ones this Emacs saw.
Warns loudly on any mismatch."
  (interactive "P")
  (message "Stele: verifying receipts...")
  (stele-verify-receipts-async
   (lambda (result)
     (let ((problems (plist-get result :problems)))
       (cond
        (problems
         (display-warning 'stele
                          (format "THE LOG DOES NOT MATCH WHAT THIS EMACS DELIVERED:\n%s"
                                  (mapconcat #'identity problems "\n"))
                          :error))
        ((plist-get result :unchecked)
         (message "Stele: receipts not verified: %s" (plist-get result :unchecked)))
        (t
         (message "Stele: %s verified in the log of size %s; consistent with the checkpoints seen"
                  (stele--count (plist-get result :checked) "event") (car (plist-get result :checkpoint)))))))
   all))

(provide 'stele-verify)
;;; stele-verify.el ends here
