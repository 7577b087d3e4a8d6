;;; stele-event.el --- Build, chain and spool one event  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; `stele-record' turns what happened into an event record v1
;; (docs/EVENT.md): id DEVICE/SEQ, time, source "emacs", the action, the
;; local account as the claimed actor (the collector binds the logged-in
;; person), target, outcome, reason, host, the device chain
;; {id, seq, prev} and details with the Emacs version.  The event is
;; written as RFC 8785 canonical JSON, exactly as the collector will
;; validate it (time in UTC milliseconds, outcome and actor.verified
;; explicit), so the SHA-256 of the spooled bytes is the `prev' of the next
;; event.  Nothing here touches the network.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)

(defcustom stele-ticket-regexp "\\b[A-Z][A-Z0-9]+-[0-9]+\\b"
  "Ticket references to list in `details.tickets', found in an event's reason.
The collector's default (Jira-style keys, docs/SOURCES.md), matched
case-sensitively; nil lists none."
  :type '(choice (const :tag "None" nil) regexp)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defun stele--tickets (text)
  "The ticket references in TEXT, upper-cased, each once, as a vector or nil."
  (when (and text stele-ticket-regexp)
    (let ((case-fold-search nil) (start 0) found)
      (while (string-match stele-ticket-regexp text start)
        (cl-pushnew (upcase (match-string 0 text)) found :test #'equal)
        (setq start (match-end 0)))
      (and found (vconcat (nreverse found))))))

(defvar stele--actor nil
  "The claimed actor of this session's events, computed once.")

(defvar stele--host nil
  "The host name of this session's events, computed once.")

(defvar stele--after-capture-functions nil
  "Functions called with the sequence number after each event is spooled.
Delivery schedules itself here.")

(defun stele--compute-actor ()
  "The local account as an event actor."
  (let ((id (stele--text (user-login-name) 256))
        (name (stele--text (user-full-name) 256))
        (email (and (stringp user-mail-address)
                    (string-match-p "\\`[^@[:space:]]+@[^@[:space:]]+\\'" user-mail-address)
                    (<= (length user-mail-address) 254)
                    user-mail-address)))
    `(,@(and email `((email . ,email)))
      (id . ,(or id "unknown"))
      ,@(and name `((name . ,name)))
      (verified . :false))))

(defun stele--compute-host ()
  "The host name as the event schema takes it."
  (let ((host (replace-regexp-in-string "[[:space:]]" "" (or (stele--text (system-name) 255) ""))))
    (if (equal host "") "unknown" host)))

(defun stele--clean-details (value)
  "VALUE with every string made valid Unicode and nil values dropped."
  (cond ((stringp value) (substring-no-properties (stele--valid-unicode value)))
        ((vectorp value) (vconcat (mapcar #'stele--clean-details value)))
        ((and (consp value) (consp (car value)))
         (cl-loop for (k . v) in value
                  unless (null v) collect (cons k (stele--clean-details v))))
        (t value)))

(cl-defun stele-record (action &key target details reason outcome)
  "Record the event ACTION (a dotted verb such as \"file.save\").
TARGET is an alist with `type' and optionally `id' and `name'.
DETAILS is an alist of source-specific data; entries whose value is
nil are left out.  REASON is the why, in the user's words.  OUTCOME
is \"success\" (the default), \"failure\" or \"unknown\".

The event is chained to the previous one of this device and written
to the spool; delivery happens later, asynchronously.  Returns the
event's id, or nil when Stele holds no device."
  (let ((device (car stele--devices)))
    (when device
      (let* ((seq (1+ (stele--device-seq device)))
             (prev (stele--device-prev device))
             (id (format "%s/%d" (stele--device-id device) seq))
             (target (cl-loop for (k . v) in target
                              for max = (if (eq k 'name) 1024 4096)
                              for text = (stele--text v max)
                              when text collect (cons k text)))
             (reason (stele--text reason 4096 t))
             (event
              `((id . ,id)
                (time . ,(stele--now))
                (source . "emacs")
                (action . ,action)
                (actor . ,(or stele--actor (setq stele--actor (stele--compute-actor))))
                ,@(and target `((target . ,target)))
                (outcome . ,(or outcome "success"))
                ,@(and reason `((reason . ,reason)))
                (host . ,(or stele--host (setq stele--host (stele--compute-host))))
                (device . ((id . ,(stele--device-id device))
                           (seq . ,seq)
                           ,@(and prev `((prev . ,prev)))))
                (details . ,(stele--clean-details
                             (append details
                                     `((tickets . ,(stele--tickets reason))
                                       (emacs . ,emacs-version)
                                       (stele . ,stele-version))))))))
        (stele--spool-write device (stele-json-bytes event))
        (run-hook-with-args 'stele--after-capture-functions seq)
        id))))

(provide 'stele-event)
;;; stele-event.el ends here
