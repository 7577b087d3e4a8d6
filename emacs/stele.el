;;; stele.el --- Record what you change in a tamper-evident audit log  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; Maintainer: The Stele authors
;; URL: https://example.com/stele
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: tools, vc, files
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Stele records who changed what, when and why, in an append-only log
;; whose signed Merkle checkpoints let anyone prove nothing was changed,
;; removed or reordered afterwards.  `stele-mode' records from Emacs:
;;
;; - file saves (path, SHA-256, size, mode, Git branch and revision;
;;   TRAMP method, user, host and hops, with sudo/su/doas/root saves
;;   marked privileged), and the init and custom files as configuration
;;   edits;
;; - configuration changes (Customize, `setopt', `custom-set-variables',
;;   the variables in `stele-watched-variables'), values hashed unless
;;   allow-listed;
;; - package installs (with dependencies), upgrades and deletions;
;; - commits, through VC, Magit or anything else that writes the reflog;
;; - Emacs starting and exiting, the mode turned on and off, and a
;;   heartbeat, so that silence is noticeable.
;;
;; Each event is spooled to disk first and delivered in the background,
;; retried until the collector has it, exactly once.  Set `stele-server',
;; log in with \\[stele-login] (or set `stele-api-token-file'), and turn
;; on `stele-mode'.  \\[stele-status] shows where things stand,
;; \\[stele-log] lists your recent events, \\[stele-verify-receipts]
;; proves the log holds what this Emacs delivered, and
;; \\[stele-annotate] records a note or approval reference.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-event)
(require 'stele-http)
(require 'stele-deliver)
(require 'stele-git)
(require 'stele-capture)
(require 'stele-merkle)
(require 'stele-verify)
(require 'stele-login)
(require 'stele-ui)

(declare-function stele-magit-enable "stele-magit" ())
(declare-function stele-magit-disable "stele-magit" ())

(defcustom stele-heartbeat-interval 300
  "Seconds between heartbeat events, so that silence is noticeable."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-mode-lighter " Stele"
  "The mode line text of `stele-mode'."
  :type 'string
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defvar stele-mode)

(defvar stele--timers nil "The heartbeat and commit-polling timers.")
(defvar stele--started nil "Non-nil once this Emacs recorded its start.")

(defun stele--lifecycle (action &optional details)
  "Record the lifecycle ACTION with DETAILS."
  (stele-record action
                :target `((type . "emacs") (id . ,(stele--device-id (car stele--devices))))
                :details details))

(defun stele--heartbeat ()
  "Record a heartbeat, and adopt the spools of Emacsen that died."
  (stele--guard "heartbeat"
    (stele--lifecycle "emacs.heartbeat"
                      `((uptime . ,(floor (float-time (time-since before-init-time))))
                        (spool . ,(stele--spool-count))))
    (stele--adopt-orphans)))

(defun stele--maybe-load-integrations (&rest _)
  "Load the Magit integration once Magit is loaded."
  (when (featurep 'magit)
    (require 'stele-magit)
    (stele-magit-enable)
    (remove-hook 'after-load-functions #'stele--maybe-load-integrations)))

(defun stele--before-checkin ()
  "Follow the repository VC is about to commit to."
  (stele--guard "watching a repository"
    (stele-git-watch (stele-git-root default-directory))))

(defun stele--after-checkin ()
  "Record the commit VC just made."
  (stele--guard "recording a VC commit"
    (let ((root (stele-git-root default-directory)))
      (if root
          (stele-git-scan root "vc")
        (stele--record-vc-commit)))))

(defvar vc-log-fileset)
(declare-function vc-root-dir "vc" ())

(defun stele--record-vc-commit ()
  "Record a commit made through a VC backend other than Git."
  (let ((backend (and (boundp 'vc-log-fileset) (car vc-log-fileset)))
        (files (and (boundp 'vc-log-fileset) (cadr vc-log-fileset)))
        (root (ignore-errors (vc-root-dir))))
    (stele-record "vc.commit"
                  :target `((type . "repository") (id . ,(and root (directory-file-name (expand-file-name root))))
                            (name . ,(and root (file-name-nondirectory (directory-file-name root)))))
                  :reason (car (split-string (buffer-substring-no-properties (point-min) (point-max)) "\n" t))
                  :details `((backend . ,(and backend (symbol-name backend)))
                             (files . ,(length files)) (via . "vc")))))

(defun stele--on-exit ()
  "Record the exit, try to deliver the spool, and release the devices."
  (stele--guard "exiting"
    (when stele-mode (stele--lifecycle "emacs.exit"))
    (when stele--devices
      (stele-flush stele-exit-flush-timeout)
      (stele--release-devices))))

(defun stele--enable ()
  "Start recording."
  (stele--open-devices)
  (setq stele--actor (stele--compute-actor)
        stele--host (stele--compute-host))
  (stele-git--load-repos)
  (stele--capture-install)
  (add-hook 'vc-before-checkin-hook #'stele--before-checkin)
  (add-hook 'vc-checkin-hook #'stele--after-checkin)
  (add-hook 'kill-emacs-hook #'stele--on-exit)
  (add-hook 'stele--after-capture-functions #'stele--schedule-on-capture)
  (add-hook 'after-load-functions #'stele--maybe-load-integrations)
  (stele--maybe-load-integrations)
  (mapc #'cancel-timer stele--timers)
  (setq stele--timers
        (list (run-at-time stele-heartbeat-interval stele-heartbeat-interval #'stele--heartbeat)
              (run-at-time stele-commit-poll-interval stele-commit-poll-interval #'stele-git-scan-all)))
  (unless stele--started
    (setq stele--started t)
    (stele--lifecycle "emacs.start"
                      `((pid . ,(emacs-pid))
                        (initSeconds . ,(and after-init-time
                                             (floor (float-time (time-subtract after-init-time
                                                                               before-init-time))))))))
  (stele--lifecycle "stele.enable")
  (stele--schedule-delivery))

(defun stele--schedule-on-capture (_seq)
  "Schedule delivery after an event was spooled."
  (stele--schedule-delivery))

(defun stele--disable ()
  "Stop recording; what is spooled is still delivered."
  (when stele--devices
    (stele--guard "recording the switch-off" (stele--lifecycle "stele.disable")))
  (stele--capture-remove)
  (remove-hook 'vc-before-checkin-hook #'stele--before-checkin)
  (remove-hook 'vc-checkin-hook #'stele--after-checkin)
  (remove-hook 'after-load-functions #'stele--maybe-load-integrations)
  (when (featurep 'stele-magit) (stele-magit-disable))
  (mapc #'cancel-timer stele--timers)
  (setq stele--timers nil)
  (stele--schedule-delivery 0))

;;;###autoload
(define-minor-mode stele-mode
  "Record file saves, configuration, packages and commits in Stele.
Every event is written to a local spool first and delivered to
`stele-server' in the background.  Turning the mode off is itself
recorded."
  :global t
  :group 'stele
  :lighter stele-mode-lighter
  (condition-case err
      (if stele-mode (stele--enable) (stele--disable))
    (error
     (setq stele-mode nil)
     (stele--capture-remove)
     (message "Stele: cannot record: %s" (error-message-string err)))))

(provide 'stele)
;;; stele.el ends here
