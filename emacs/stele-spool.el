;;; stele-spool.el --- The device, its chain and the local spool  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Every event goes to the spool before any network: one file per event,
;; named by its sequence number and holding the exact bytes sent (RFC 8785
;; canonical JSON), written to a temporary name and renamed into place, so
;; a file in the spool is always whole.
;;
;; Layout under `stele-directory' (directories 0700, files 0600):
;;
;;   device-id             the installation's device id, emacs-<16 hex>
;;   hmac-key              the key configuration values are hashed with
;;   devices/ID/lock       "PID START HOST" of the Emacs holding the device
;;   devices/ID/head       "SEQ HASH" of the newest event no longer spooled
;;   devices/ID/spool/     0000000000000042.json ...
;;   devices/ID/rejected/  events the collector refused, kept, never sent again
;;   devices/ID/receipts   "ID INDEX HASH" per delivered event
;;
;; One Emacs numbers events on one device at a time: the device of the
;; installation, or DEVICE.N when another live Emacs holds it.  An Emacs
;; that finds a device whose holder died (killed mid-delivery, say) adopts
;; it and delivers its spool.  The chain head is the newest spooled event,
;; else the head file, which is written before any spool file is removed.

;;; Code:

(require 'cl-lib)
(require 'stele-core)

(defcustom stele-spool-fsync nil
  "Non-nil means flush each spooled event to disk before going on.
Without it a spooled event survives Emacs being killed but not a
power cut in the next few seconds; with it each capture waits for
the disk, which can cost more than a millisecond."
  :type 'boolean
  :group 'stele
  :package-version '(stele . "0.1.0"))

(cl-defstruct (stele--device (:constructor stele--device-make))
  "A device this Emacs holds: its id, directory, and chain head."
  id dir (seq 0) prev)

(defvar stele--devices nil
  "The devices this Emacs holds the lock of; the first one captures.")

(defun stele--dir (&rest names)
  "The path NAMES under `stele-directory', made with mode 0700 if a directory."
  (apply #'concat (file-name-as-directory (expand-file-name stele-directory))
         (append (mapcar #'file-name-as-directory (butlast names)) (last names))))

(defun stele--make-private-directory (dir)
  "Create DIR and its parents with mode 0700, unless they exist."
  (unless (file-directory-p dir)
    (with-file-modes #o700 (make-directory dir t))))

(defun stele--base-device-id ()
  "The installation's device id, made on first use."
  (let* ((file (stele--dir "device-id"))
         (id (let ((text (stele--read-file file)))
               (and text (string-trim text)))))
    (if (and id (string-match-p "\\`[A-Za-z0-9._:@+=-]\\{1,100\\}\\'" id))
        id
      (stele--make-private-directory (stele--dir ""))
      (setq id (concat "emacs-" (stele--random-hex 8)))
      (stele--write-private file (concat id "\n"))
      id)))

(defun stele--hmac-key ()
  "The installation's secret HMAC key (unibyte), made on first use."
  (let* ((file (stele--dir "hmac-key"))
         (hex (let ((text (stele--read-file file))) (and text (string-trim text)))))
    (unless (and hex (string-match-p "\\`[0-9a-f]\\{64\\}\\'" hex))
      (stele--make-private-directory (stele--dir ""))
      (setq hex (stele--random-hex 32))
      (stele--write-private file (concat hex "\n")))
    (stele--hex-to-bytes hex)))

;;;; Locks

(defun stele--process-start (pid)
  "The start time of process PID in seconds, or nil if it is not running."
  (let ((start (alist-get 'start (process-attributes pid))))
    (and start (float-time start))))

(defun stele--lock-text ()
  "What this Emacs writes into a device lock."
  (format "%d %.0f %s\n" (emacs-pid) (or (stele--process-start (emacs-pid)) 0) (system-name)))

(defun stele--lock-live-p (text)
  "Non-nil when the lock TEXT names a live process other than this Emacs.
A lock from another host is taken to be live."
  (if (string-match "\\`\\([0-9]+\\) \\([0-9.]+\\) \\(.*\\)$" text)
      (let ((pid (string-to-number (match-string 1 text)))
            (start (string-to-number (match-string 2 text)))
            (host (match-string 3 text)))
        (cond ((not (equal host (system-name))) t)
              ((= pid (emacs-pid)) nil)
              (t (let ((now (stele--process-start pid)))
                   ;; A reused pid starts later than the one that wrote the lock.
                   (and now (< (abs (- now start)) 2))))))
    nil))

(defun stele--lock (dir)
  "Take the lock of the device directory DIR; non-nil on success."
  (stele--make-private-directory dir)
  (let ((file (expand-file-name "lock" dir))
        (text (stele--lock-text)))
    (cl-flet ((create ()
                      (condition-case nil
                          (with-file-modes #o600
                            (let ((coding-system-for-write 'binary))
                              (write-region text nil file nil 'silent nil 'excl))
                            t)
                        (file-already-exists nil))))
      (or (create)
          (let ((held (or (stele--read-file file) "")))
            (cond ((equal held text) t)
                  ((stele--lock-live-p held) nil)
                  (t (delete-file file) (create))))))))

(defun stele--unlock (device)
  "Release the lock of DEVICE if it is this Emacs's."
  (let ((file (expand-file-name "lock" (stele--device-dir device))))
    (when (equal (stele--read-file file) (stele--lock-text))
      (delete-file file))))

;;;; The spool

(defun stele--spool-dir (device)
  "The spool directory of DEVICE."
  (expand-file-name "spool/" (stele--device-dir device)))

(defun stele--spool-files (device &optional limit)
  "The spooled files of DEVICE, oldest first; at most LIMIT of them."
  (let* ((dir (stele--spool-dir device))
         (files (and (file-directory-p dir)
                     (directory-files dir t "\\`[0-9]\\{16\\}\\.json\\'"))))
    (if (and limit (> (length files) limit)) (cl-subseq files 0 limit) files)))

(defun stele--spool-seq (file)
  "The sequence number of the spool FILE."
  (string-to-number (file-name-base file)))

(defun stele--read-head (dir)
  "The (SEQ . HASH) of the head file in DIR, or (0 . nil)."
  (let ((text (stele--read-file (expand-file-name "head" dir))))
    (if (and text (string-match "\\`\\([0-9]+\\) \\([0-9a-f]\\{64\\}\\)" text))
        (cons (string-to-number (match-string 1 text)) (match-string 2 text))
      (cons 0 nil))))

(defun stele--open-device (id)
  "Lock and load the device ID; nil when it is another live Emacs's."
  (let ((dir (stele--dir "devices" id "")))
    (when (stele--lock dir)
      (let* ((device (stele--device-make :id id :dir dir))
             (head (stele--read-head dir))
             (newest (car (last (stele--spool-files device)))))
        (stele--make-private-directory (stele--spool-dir device))
        ;; Half-written files from a killed Emacs were never spooled.
        (dolist (tmp (directory-files (stele--spool-dir device) t "\\`\\.tmp-"))
          (delete-file tmp))
        (if (and newest (> (stele--spool-seq newest) (car head)))
            (setf (stele--device-seq device) (stele--spool-seq newest)
                  (stele--device-prev device) (stele--sha256-hex (stele--read-file newest)))
          (setf (stele--device-seq device) (car head)
                (stele--device-prev device) (cdr head)))
        device))))

(defun stele--open-devices ()
  "Hold a device to capture on, and adopt devices whose Emacs died.
Returns the capturing device."
  (unless stele--devices
    (let ((base (stele--base-device-id)) capture)
      (cl-loop for k from 0 below 100
               for id = (if (= k 0) base (format "%s.%d" base k))
               until (setq capture (stele--open-device id)))
      (unless capture (error "Stele: no free device slot under %s" stele-directory))
      (setq stele--devices (list capture))))
  (stele--adopt-orphans)
  (car stele--devices))

(defun stele--adopt-orphans ()
  "Hold every device under `stele-directory' with a spool but no live Emacs."
  (let ((root (stele--dir "devices" "")))
    (when (file-directory-p root)
      (dolist (id (directory-files root nil "\\`[^.]"))
        (unless (cl-find id stele--devices :key #'stele--device-id :test #'equal)
          (let ((spool (expand-file-name (concat id "/spool/") root)))
            (when (and (file-directory-p spool)
                       (directory-files spool nil "\\.json\\'" t 1))
              (let ((device (stele--open-device id)))
                (when device
                  (stele--log "adopted device %s and its spool" id)
                  (setq stele--devices (append stele--devices (list device))))))))))))

(defun stele--release-devices ()
  "Release every device lock of this Emacs."
  (mapc #'stele--unlock stele--devices)
  (setq stele--devices nil))

(defun stele--spool-write (device bytes)
  "Spool the event BYTES as the next event of DEVICE.
BYTES are the canonical JSON of an event that already carries the
next sequence number and the previous hash; the head moves on."
  (let* ((seq (1+ (stele--device-seq device)))
         (dir (stele--spool-dir device))
         (name (format "%016d.json" seq))
         (tmp (concat dir ".tmp-" name))
         (coding-system-for-write 'binary)
         (file-name-handler-alist nil)
         (create-lockfiles nil)
         (write-region-inhibit-fsync (not stele-spool-fsync)))
    ;; O_EXCL: a new file, never a truncated one (also far cheaper here).
    (with-file-modes #o600
      (write-region bytes nil tmp nil 'silent nil 'excl))
    (rename-file tmp (concat dir name) t)
    (setf (stele--device-seq device) seq
          (stele--device-prev device) (stele--sha256-hex bytes))
    seq))

(defun stele--spool-remove (device files)
  "Remove the delivered FILES of DEVICE, keeping the chain head first."
  (let* ((newest (car (last files)))
         (seq (stele--spool-seq newest))
         (head (stele--read-head (stele--device-dir device))))
    (when (> seq (car head))
      (stele--write-private (expand-file-name "head" (stele--device-dir device))
                            (format "%d %s\n" seq (stele--sha256-hex (stele--read-file newest)))))
    (mapc #'delete-file files)))

(defun stele--spool-reject (device file answer)
  "Move the spool FILE of DEVICE aside, with the collector's ANSWER beside it."
  (let ((dir (expand-file-name "rejected/" (stele--device-dir device)))
        (bytes (or (stele--read-file file) "")))
    (stele--make-private-directory dir)
    (stele--write-private (expand-file-name (file-name-nondirectory file) dir) bytes)
    (stele--spool-remove device (list file))
    (stele--write-private (expand-file-name (concat (file-name-base file) ".answer") dir)
                          (encode-coding-string (format "%s\n" answer) 'utf-8))))

(defun stele--spool-count ()
  "The number of events waiting in the spools of this Emacs's devices."
  (cl-loop for device in stele--devices sum (length (stele--spool-files device))))

(defun stele--receipts-add (device lines)
  "Append the receipt LINES (strings) of DEVICE."
  (let ((coding-system-for-write 'binary)
        (file (expand-file-name "receipts" (stele--device-dir device))))
    (with-file-modes #o600
      (write-region (apply #'concat lines) nil file t 'silent))))

(defun stele--receipts (&optional limit)
  "The receipts of every device under `stele-directory', newest last.
Each is (ID INDEX HASH); at most LIMIT of them when given."
  (let ((root (stele--dir "devices" "")) all)
    (when (file-directory-p root)
      (dolist (id (directory-files root nil "\\`[^.]"))
        (let ((text (stele--read-file (expand-file-name (concat id "/receipts") root))))
          (when text
            (dolist (line (split-string text "\n" t))
              (let ((parts (split-string line " ")))
                (when (= (length parts) 3)
                  (push (list (nth 0 parts) (string-to-number (nth 1 parts)) (nth 2 parts)) all))))))))
    (setq all (sort (nreverse all) (lambda (a b) (< (nth 1 a) (nth 1 b)))))
    (if (and limit (> (length all) limit)) (last all limit) all)))

;;;; Installation state

(defun stele--state ()
  "The installation's state plist (last delivery, checkpoints, identity)."
  (let ((text (stele--read-file (stele--dir "state.eld"))))
    (or (and text (ignore-errors (car (read-from-string (decode-coding-string text 'utf-8)))))
        nil)))

(defun stele--state-put (&rest plist)
  "Store the properties of PLIST in the installation's state."
  (let ((state (stele--state)))
    (while plist
      (setq state (plist-put state (pop plist) (pop plist))))
    (stele--write-private (stele--dir "state.eld")
                          (encode-coding-string (prin1-to-string state) 'utf-8))))

(provide 'stele-spool)
;;; stele-spool.el ends here
