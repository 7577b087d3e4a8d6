;;; stele-batch.el --- Batch checkdoc and package-lint for the Makefile  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make checkdoc' and `make lint' call these with the files to check as
;; the remaining command line arguments; either exits non-zero on any
;; complaint.

;;; Code:

(require 'checkdoc)

(defun stele-batch-checkdoc ()
  "Run checkdoc on the files on the command line; exit 1 on any warning."
  (let ((problems 0))
    (dolist (file command-line-args-left)
      (let ((checkdoc-create-error-function
             (lambda (text start _end &optional _unfixable)
               (setq problems (1+ problems))
               (message "%s:%d: %s" file (line-number-at-pos start) text)
               nil))
            (checkdoc-autofix-flag 'never))
        (with-current-buffer (find-file-noselect file)
          (checkdoc-current-buffer t))))
    (setq command-line-args-left nil)
    (message "checkdoc: %d problem(s)" problems)
    (kill-emacs (if (zerop problems) 0 1))))

(defconst stele-batch-stale-lint
  "This makes the package uninstallable in all released Emacs versions."
  "What package-lint before 0.17 says of any Emacs 28 dependency.
Debian 12's elpa-package-lint is 0.16, older than Emacs 28.1; the
message is wrong there and is reported but not counted.")

(defun stele-batch-package-lint ()
  "Run package-lint on the files on the command line, stele.el the main one.
Exit 1 on any error or warning but `stele-batch-stale-lint'."
  (require 'package-lint)
  (require 'package)
  (package-initialize)
  (defvar package-lint-main-file)
  (setq package-lint-main-file "stele.el")
  (let ((problems 0))
    (dolist (file command-line-args-left)
      (with-current-buffer (find-file-noselect file)
        (pcase-dolist (`(,line ,col ,type ,message) (package-lint-buffer))
          (if (equal message stele-batch-stale-lint)
              (message "%s:%d:%d: note (stale in package-lint before 0.17): %s"
                       file line col message)
            (setq problems (1+ problems))
            (message "%s:%d:%d: %s: %s" file line col type message)))))
    (setq command-line-args-left nil)
    (message "package-lint: %d problem(s)" problems)
    (kill-emacs (if (zerop problems) 0 1))))

(provide 'stele-batch)
;;; stele-batch.el ends here
