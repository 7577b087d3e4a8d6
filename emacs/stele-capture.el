;;; stele-capture.el --- What Stele records: saves, configuration, packages  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; The hooks and advice `stele-mode' installs, each a few hundred
;; microseconds at most: file saves (with the init and custom files as
;; configuration edits, and a reason asked for the paths in
;; `stele-reason-required'), configuration changes (the Customize entry
;; points, `setopt', and watched variables), and package installs,
;; upgrades and deletions.  Configuration values are sent as an
;; HMAC-SHA256 under the installation's key unless allow-listed.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-event)
(require 'stele-git)

(declare-function stele-tramp-classify "stele-tramp" (file))
(declare-function package-desc-name "package" (desc))
(declare-function package-desc-version "package" (desc))
(declare-function package-desc-archive "package" (desc))
(declare-function package-desc-kind "package" (desc))
(declare-function package-desc-p "package" (object))
(declare-function package-version-join "package" (version))
(defvar package-alist)

(defcustom stele-reason-required nil
  "Regular expressions of file names whose saves need a reason.
Saving a file whose absolute name matches one of them asks for a
reason (a ticket, an approval link, a sentence), recorded as the
event's `reason'.  Quitting the question aborts the save.  Examples:
\"\\\\`/sudo:\", \"\\\\`/etc/\", \"/deploy/production/\"."
  :type '(repeat regexp)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-reason-function #'stele-read-reason
  "The function that asks for the reason of a save; called with the file name.
It returns the reason, a string (empty for none)."
  :type 'function
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-watched-variables nil
  "Variables whose every change is recorded, by a variable watcher.
Let-bindings are ignored.  Takes effect when `stele-mode' is turned on."
  :type '(repeat variable)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-config-allow-list nil
  "Variables whose values are recorded in the clear.
The value of any other variable is recorded only as an HMAC-SHA256
keyed with this installation's secret, so equal values can be
matched without revealing them."
  :type '(repeat variable)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defvar-local stele--reason nil
  "The reason given for the save in progress.")

(defvar stele--hmac-key-bytes nil
  "The installation's HMAC key, read when `stele-mode' is turned on.")

;;;; File saves

(defun stele-read-reason (file)
  "Ask for the reason of saving FILE."
  (read-string (format "Reason for changing %s (ticket, approval, why): "
                       (abbreviate-file-name file))))

(defun stele--reason-required-p (file)
  "Non-nil when saving FILE needs a reason."
  (cl-some (lambda (re) (string-match-p re file)) stele-reason-required))

(defun stele--before-save ()
  "Ask for a reason when the file about to be saved needs one."
  (when (and buffer-file-name (stele--reason-required-p buffer-file-name))
    (setq stele--reason (funcall stele-reason-function buffer-file-name))))

(defun stele--config-kind (file)
  "The kind of configuration file FILE is, or nil."
  (let* ((file (expand-file-name file))
         (same (lambda (other)
                 (and (stringp other)
                      (let ((other (expand-file-name other)))
                        (or (equal file other)
                            (equal file (replace-regexp-in-string "\\.elc\\'" ".el" other))))))))
    (cond ((funcall same user-init-file) "init-file")
          ((funcall same (bound-and-true-p early-init-file)) "early-init-file")
          ((funcall same custom-file) "custom-file"))))

(defun stele--file-content ()
  "The (SHA256 . BYTES) of the saved content of the current buffer.
The buffer is hashed as it was just written: encoded with the
coding system the save used, without copying it into a string or
reading the file back, which keeps a save's capture cheap."
  (let ((coding-system-for-write (or last-coding-system-used buffer-file-coding-system)))
    (cons (secure-hash 'sha256 (current-buffer))
          (let ((bytes (bufferpos-to-filepos (point-max) 'exact coding-system-for-write)))
            (or bytes (length (encode-coding-string (buffer-string) coding-system-for-write t)))))))

(defun stele--vc-details (file)
  "The version control facts of the local FILE, read without processes."
  (let ((root (stele-git-root (file-name-directory file))))
    (if root
        (let ((head (stele-git-head root)))
          (stele-git-watch root)
          `((backend . "Git") (root . ,(directory-file-name root))
            (branch . ,(car head)) (revision . ,(cdr head))))
      (let ((backend (vc-file-getprop file 'vc-backend)))
        (when (and backend (not (eq backend 'none)))
          `((backend . ,(symbol-name backend))
            (revision . ,(let ((rev (vc-file-getprop file 'vc-working-revision)))
                           (and (stringp rev) rev)))))))))

(defun stele--after-save ()
  "Record the save of the current buffer's file."
  (when buffer-file-name
    (let ((reason stele--reason))
      (setq stele--reason nil)
      (stele--guard "recording a save"
        (let* ((file (expand-file-name buffer-file-name))
               (remote (and (file-remote-p file)
                            (progn (require 'stele-tramp) (stele-tramp-classify file))))
               (kind (and (not remote) (stele--config-kind file)))
               (content (stele--file-content)))
          (stele-record (if kind "config.edit" "file.save")
                        :target `((type . "file") (id . ,file) (name . ,(file-name-nondirectory file)))
                        :reason reason
                        :details `((sha256 . ,(car content))
                                   (bytes . ,(cdr content))
                                   (mode . ,(symbol-name major-mode))
                                   (config . ,kind)
                                   (vc . ,(and (not remote) (stele--vc-details file)))
                                   (remote . ,(cl-remove 'privileged remote :key #'car))
                                   (privileged . ,(if remote ; true or absent, as docs/SOURCES.md
                                                      (eq (alist-get 'privileged remote) t)
                                                    (eql (user-uid) 0)))
                                   (reasonRequired . ,(and (stele--reason-required-p file) t)))))))))

(defun stele--find-file ()
  "Start following the commits of the Git repository of a visited file."
  (when (and buffer-file-name (not (file-remote-p buffer-file-name)))
    (stele--guard "watching a repository"
      (stele-git-watch (stele-git-root (file-name-directory buffer-file-name))))))

;;;; Configuration changes

(defvar stele--config-via nil
  "The entry point changing configuration now; nested ones record nothing.")

(defun stele--config-value (symbol value)
  "The details describing VALUE of SYMBOL: in the clear only if allow-listed."
  (if (eq value 'stele--unbound)
      '((unbound . t))
    (let ((printed (let ((print-length nil) (print-level nil)) (prin1-to-string value))))
      (if (memq symbol stele-config-allow-list)
          `((value . ,(if (> (length printed) 1000) (substring printed 0 1000) printed)))
        `((valueHmac . ,(stele-hmac-sha256 (or stele--hmac-key-bytes
                                               (setq stele--hmac-key-bytes (stele--hmac-key)))
                                           (encode-coding-string printed 'utf-8))))))))

(defun stele--record-config (symbol value via operation &optional buffer)
  "Record that SYMBOL became VALUE through VIA by OPERATION.
BUFFER is the buffer of a buffer-local change."
  (stele-record "config.change"
                :target `((type . "variable") (id . ,(symbol-name symbol)))
                :details `((via . ,via) (operation . ,operation)
                           (buffer . ,(and (buffer-live-p buffer) (buffer-name buffer)))
                           ,@(stele--config-value symbol value))))

(defun stele--value (symbol)
  "The default value of SYMBOL, or `stele--unbound'."
  (if (default-boundp symbol) (default-value symbol) 'stele--unbound))

(defun stele--config-around (via symbols thunk)
  "Call THUNK, then record each of SYMBOLS whose value it changed, naming VIA."
  (if stele--config-via
      (funcall thunk)
    (let* ((before (mapcar (lambda (s) (cons s (stele--value s))) symbols))
           (result (let ((stele--config-via via)) (funcall thunk))))
      (stele--guard "recording a configuration change"
        (pcase-dolist (`(,symbol . ,old) before)
          (let ((new (stele--value symbol)))
            (unless (ignore-errors (equal old new))
              (stele--record-config symbol new via "set")))))
      result)))

(defun stele--around-customize-set-variable (orig variable value &rest rest)
  "Record `customize-set-variable' (ORIG) setting VARIABLE to VALUE.
REST are its other arguments."
  (stele--config-around "customize-set-variable" (list variable)
                        (lambda () (apply orig variable value rest))))

(defun stele--around-customize-save-variable (orig variable value &rest rest)
  "Record `customize-save-variable' (ORIG) setting VARIABLE to VALUE.
REST are its other arguments."
  (stele--config-around "customize-save-variable" (list variable)
                        (lambda () (apply orig variable value rest))))

(defun stele--around-setopt-set (orig variable value)
  "Record `setopt' (its helper ORIG) setting VARIABLE to VALUE."
  (stele--config-around "setopt" (list variable) (lambda () (funcall orig variable value))))

(defun stele--around-custom-set-variables (orig &rest args)
  "Record `custom-set-variables' (ORIG) setting the variables of ARGS."
  (stele--config-around "custom-set-variables"
                        (cl-loop for arg in args when (and (consp arg) (symbolp (car arg))) collect (car arg))
                        (lambda () (apply orig args))))

(defun stele--variable-watcher (symbol newval operation where)
  "Record that the watched SYMBOL became NEWVAL by OPERATION, locally in WHERE."
  (unless (or stele--config-via (memq operation '(let unlet)))
    (stele--guard "recording a watched variable"
      (let ((old (if (buffer-live-p where)
                     (buffer-local-value symbol where)
                   (stele--value symbol))))
        (unless (and (eq operation 'set) (ignore-errors (equal old newval)))
          (stele--record-config symbol (if (eq operation 'makunbound) 'stele--unbound newval)
                                "variable-watcher" (symbol-name operation) where))))))

;;;; Packages

(defvar stele--package-requested nil "The package the user asked to install.")
(defvar stele--package-upgrading nil "The version being upgraded from, during `package-upgrade'.")

(defun stele--record-package (action desc details)
  "Record ACTION on the package DESC with DETAILS."
  (let ((name (symbol-name (package-desc-name desc))))
    (stele-record action
                  :target `((type . "package") (id . ,name) (name . ,name))
                  :details `((version . ,(package-version-join (package-desc-version desc)))
                             (archive . ,(package-desc-archive desc))
                             (kind . ,(and (package-desc-kind desc) (symbol-name (package-desc-kind desc))))
                             ,@details))))

(defun stele--around-package-install (orig pkg &rest args)
  "Note which package PKG the user asked `package-install' (ORIG) for.
ARGS are its other arguments."
  (let ((stele--package-requested
         (or stele--package-requested (if (package-desc-p pkg) (package-desc-name pkg) pkg))))
    (apply orig pkg args)))

(defun stele--around-package-install-from-archive (orig desc &rest args)
  "Record the install of DESC by ORIG (with ARGS), a dependency or not."
  (let* ((name (package-desc-name desc))
         (before (cadr (assq name package-alist)))
         (from (or stele--package-upgrading
                   (and before (package-version-join (package-desc-version before))))))
    (prog1 (apply orig desc args)
      (stele--guard "recording a package install"
        (stele--record-package (if from "package.upgrade" "package.install") desc
                               `((from . ,from)
                                 (dependency . ,(if (and stele--package-requested
                                                         (not (eq stele--package-requested name)))
                                                    t :false))))))))

(defun stele--around-package-delete (orig desc &rest args)
  "Record the deletion of DESC by ORIG (with ARGS)."
  (prog1 (apply orig desc args)
    (stele--guard "recording a package deletion"
      (stele--record-package "package.delete" desc
                             `((upgrade . ,(and stele--package-upgrading t)))))))

(defun stele--around-package-upgrade (orig name &rest args)
  "Note the version of NAME that `package-upgrade' (ORIG) is to replace.
ARGS are its other arguments."
  (let ((stele--package-upgrading
         (let ((desc (cadr (assq (if (stringp name) (intern name) name) package-alist))))
           (and desc (package-version-join (package-desc-version desc))))))
    (apply orig name args)))

(defun stele--around-package-vc-install (orig package &rest args)
  "Record `package-vc-install' (ORIG) of PACKAGE (with ARGS)."
  (prog1 (apply orig package args)
    (stele--guard "recording a package-vc install"
      (let* ((name (cond ((consp package) (symbol-name (car package)))
                         ((symbolp package) (symbol-name package))
                         (t (replace-regexp-in-string "\\.git\\'" "" (file-name-nondirectory
                                                                      (directory-file-name package))))))
             (desc (cadr (assq (intern name) package-alist))))
        (stele-record "package.install"
                      :target `((type . "package") (id . ,name) (name . ,name))
                      :details `((version . ,(and desc (package-version-join (package-desc-version desc))))
                                 (kind . "vc")
                                 (url . ,(and (stringp package) package))
                                 (rev . ,(and (stringp (car args)) (car args)))))))))

(defconst stele--advice
  '((customize-set-variable . stele--around-customize-set-variable)
    (customize-save-variable . stele--around-customize-save-variable)
    (setopt--set . stele--around-setopt-set)
    (custom-set-variables . stele--around-custom-set-variables)
    (package-install . stele--around-package-install)
    (package-install-from-archive . stele--around-package-install-from-archive)
    (package-delete . stele--around-package-delete)
    (package-upgrade . stele--around-package-upgrade)
    (package-vc-install . stele--around-package-vc-install))
  "The functions Stele advises, and the advice.")

(defun stele--advise (&rest _)
  "Advise each function of `stele--advice' that is defined by now.
Run again after each load, for the ones a library defines later."
  (pcase-dolist (`(,fn . ,advice) stele--advice)
    (when (and (fboundp fn) (not (advice-member-p advice fn)))
      (advice-add fn :around advice))))

(defun stele--capture-install ()
  "Install the capturing hooks, advice and watchers."
  (setq stele--hmac-key-bytes (stele--hmac-key))
  (add-hook 'before-save-hook #'stele--before-save)
  (add-hook 'after-save-hook #'stele--after-save)
  (add-hook 'find-file-hook #'stele--find-file)
  (stele--advise)
  (add-hook 'after-load-functions #'stele--advise)
  (dolist (var stele-watched-variables)
    (add-variable-watcher var #'stele--variable-watcher)))

(defun stele--capture-remove ()
  "Remove what `stele--capture-install' installed."
  (remove-hook 'before-save-hook #'stele--before-save)
  (remove-hook 'after-save-hook #'stele--after-save)
  (remove-hook 'find-file-hook #'stele--find-file)
  (remove-hook 'after-load-functions #'stele--advise)
  (pcase-dolist (`(,fn . ,advice) stele--advice)
    (advice-remove fn advice))
  (mapatoms (lambda (sym)
              (when (memq #'stele--variable-watcher (get-variable-watchers sym))
                (remove-variable-watcher sym #'stele--variable-watcher)))))

(provide 'stele-capture)
;;; stele-capture.el ends here
