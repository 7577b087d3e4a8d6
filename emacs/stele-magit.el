;;; stele-magit.el --- Record commits made in Magit  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Loaded by `stele-mode' once Magit is.  Every git process Magit runs
;; ends in `magit-process-finish', synchronous or not, whatever the
;; command: after it, Stele reads the repository's reflog, so a commit,
;; amend, cherry-pick or revert made in Magit is recorded even when
;; Magit's own hooks (`git-commit-post-finish-hook',
;; `magit-post-commit-hook') do not run.  Without Magit, and for commits
;; made anywhere else, the reflog is read by `vc-checkin-hook' and a timer.

;;; Code:

(require 'stele-git)

(defun stele-magit--after-process (arg &rest more)
  "Look for new commits after Magit's git process ARG.
MORE are the other arguments of `magit-process-finish'."
  (stele--guard "looking for Magit commits"
    (let* ((dir (if (processp arg) (process-get arg 'default-dir) (nth 2 more)))
           (root (and dir (not (file-remote-p dir)) (stele-git-root dir))))
      (when root (stele-git-scan root "magit")))))

(defun stele-magit-enable ()
  "Follow the git processes of Magit."
  (advice-add 'magit-process-finish :after #'stele-magit--after-process))

(defun stele-magit-disable ()
  "Stop following Magit."
  (advice-remove 'magit-process-finish #'stele-magit--after-process))

(provide 'stele-magit)
;;; stele-magit.el ends here
