;;; stele-ui.el --- Status, the user's log, and notes  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; `stele-status' says who this Emacs sends as, its device, what waits in
;; the spool, the last delivery and the last checkpoint seen;
;; `stele-log' lists the user's recent events from the collector;
;; `stele-annotate' records a free-standing note or approval reference.

;;; Code:

(require 'cl-lib)
(require 'tabulated-list)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-event)
(require 'stele-http)
(require 'stele-merkle)

(defvar stele--last-error)
(declare-function stele--describe-identity "stele-login" (whoami))

;;;###autoload
(defun stele-annotate (note &optional file)
  "Record NOTE: a free-standing note, ticket or approval reference.
Interactively the note is about the visited FILE, if any; with a
prefix argument it is about nothing in particular.  Return the
event's id."
  (interactive (list (read-string "Stele note (ticket, approval link, why): ")
                     (and (not current-prefix-arg) buffer-file-name)))
  (when (string-empty-p (string-trim note)) (user-error "An empty note records nothing"))
  (let ((id (stele-record "note.add"
                          :target (and file `((type . "file") (id . ,(expand-file-name file))
                                              (name . ,(file-name-nondirectory file))))
                          :reason note)))
    (unless id (user-error "Turn on `stele-mode' first"))
    (message "Stele: note recorded as %s" id)
    id))

(defun stele--status-text ()
  "The text of `stele-status'."
  (let* ((state (stele--state))
         (identity (plist-get state :identity))
         (seen (plist-get state :checkpoint-seen))
         (checkpoint (and seen (ignore-errors (stele-merkle-parse-checkpoint seen))))
         (token (stele--static-token)))
    (concat
     (format "Collector:        %s\n" (or (stele--server) "none (set `stele-server')"))
     (format "Sending as:       %s\n"
             (cond (token "an API token ($STELE_TOKEN or `stele-api-token-file')")
                   ((and identity (stele--server) (stele--credentials (stele--server)))
                    (stele--describe-identity identity))
                   (t "not logged in (M-x stele-login)")))
     (format "Device:           %s\n"
             (if stele--devices
                 (mapconcat (lambda (d) (format "%s (seq %d)" (stele--device-id d) (stele--device-seq d)))
                            stele--devices ", ")
               "none held (stele-mode is off)"))
     (format "Spool:            %s waiting in %s\n" (stele--count (stele--spool-count) "event") (stele--dir "devices"))
     (format "Last delivery:    %s\n" (or (plist-get state :last-delivery) "never"))
     (if stele--last-error (format "Last error:       %s\n" stele--last-error) "")
     (format "Last checkpoint:  %s\n"
             (if checkpoint
                 (format "%s, size %d, root %s" (nth 0 checkpoint) (nth 1 checkpoint)
                         (base64-encode-string (nth 2 checkpoint)))
               "none seen"))
     (format "Verified up to:   %s\n"
             (let ((v (plist-get state :checkpoint-verified)))
               (if v
                   (format "size %d" (nth 1 (stele-merkle-parse-checkpoint v)))
                 "never (M-x stele-verify-receipts)"))))))

;;;###autoload
(defun stele-status ()
  "Show who Stele sends as, the device, the spool and the last checkpoint."
  (interactive)
  (with-help-window "*stele-status*"
    (princ (stele--status-text))))

;;;; The log

(defvar-local stele-log--query nil "The query of this `stele-log' buffer.")

(define-derived-mode stele-log-mode tabulated-list-mode "Stele-Log"
  "The user's recent events, as the collector has them."
  (setq tabulated-list-format [("Time" 24 t) ("Action" 16 t) ("Target" 50 t) ("Outcome" 8 t) ("Reason" 0 nil)]
        tabulated-list-sort-key nil)
  (add-hook 'tabulated-list-revert-hook #'stele-log--refresh nil t)
  (tabulated-list-init-header))

(defun stele-log--actor ()
  "Whose events `stele-log' lists: the logged-in person, else the local user."
  (let ((identity (plist-get (stele--state) :identity)))
    (or (and (not (stele--static-token))
             (or (stele-json-get identity 'actor 'email) (stele-json-get identity 'actor 'id)))
        (user-login-name))))

(defun stele-log--entries (events)
  "Tabulated list entries of the collector's EVENTS."
  (mapcar (lambda (e)
            (let ((text (lambda (v) (replace-regexp-in-string "[\n\t]" " " (format "%s" (or v ""))))))
              (list (stele-json-get e 'id)
                    (vector (funcall text (stele-json-get e 'time))
                            (funcall text (stele-json-get e 'action))
                            (funcall text (or (stele-json-get e 'target 'id) (stele-json-get e 'target 'type)))
                            (funcall text (stele-json-get e 'outcome))
                            (funcall text (stele-json-get e 'reason))))))
          events))

(defun stele-log--refresh ()
  "Fetch the events of this buffer's query again."
  (let ((buffer (current-buffer)))
    (stele--api (concat "/v1/events?" stele-log--query)
                :callback (lambda (status answer)
                            (when (buffer-live-p buffer)
                              (with-current-buffer buffer
                                (if (eql status 200)
                                    (progn (setq tabulated-list-entries
                                                 (stele-log--entries (stele-json-get answer 'events)))
                                           (tabulated-list-print t))
                                  (message "Stele: the collector answered %s %s" status
                                           (or (stele--error-code answer) answer)))))))))

;;;###autoload
(defun stele-log (&optional actor)
  "List the recent events of ACTOR (default: you) from the collector."
  (interactive (list (and current-prefix-arg (read-string "Actor (id or e-mail): " (stele-log--actor)))))
  (let ((buffer (get-buffer-create "*stele-log-events*")))
    (with-current-buffer buffer
      (stele-log-mode)
      (setq stele-log--query (concat "limit=200&actor=" (url-hexify-string (or actor (stele-log--actor)))))
      (setq tabulated-list-entries nil)
      (tabulated-list-print)
      (stele-log--refresh))
    (pop-to-buffer buffer)))

(provide 'stele-ui)
;;; stele-ui.el ends here
