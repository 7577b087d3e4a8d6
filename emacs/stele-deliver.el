;;; stele-deliver.el --- Deliver the spool: batched, retried, exactly once  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Delivery runs from timers and process callbacks, never from a command:
;; the oldest spooled events of a device go in one POST /v1/events, in
;; sequence order; a 201 writes their receipts and removes them; any
;; failure waits with exponential backoff and sends the same events again.
;; The collector deduplicates by event id, so a batch that was stored but
;; whose answer never came back is stored once.  Events the collector
;; refuses (409 conflict, 422 invalid) are found one at a time, moved to
;; rejected/ and kept.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-http)

(defcustom stele-delivery-delay 2
  "Seconds to wait after an event before sending, to batch bursts."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-batch-size 100
  "The most events sent in one request."
  :type 'integer
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-retry-initial-delay 5
  "Seconds before the first retry of a failed delivery; doubled each time."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-retry-max-delay 600
  "The longest wait between two delivery attempts, in seconds."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-exit-flush-timeout 3
  "Seconds Emacs may spend delivering the spool when it exits."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defvar stele--delivery-timer nil "The timer of the next delivery attempt.")
(defvar stele--delivering nil "Non-nil while a request is in flight.")
(defvar stele--failures 0 "Delivery failures in a row.")
(defvar stele--single nil "Non-nil while sending one event at a time to find a refused one.")
(defvar stele--last-error nil "Why the last delivery failed, or nil.")

(defvar stele--delivery-due nil "When the scheduled attempt runs, as a float time.")

(defun stele--schedule-delivery (&optional delay)
  "Attempt delivery in DELAY seconds (default `stele-delivery-delay').
An attempt already scheduled sooner stands."
  (let* ((delay (or delay stele-delivery-delay))
         (due (+ (float-time) delay)))
    (unless (or stele--delivering
                (and stele--delivery-timer stele--delivery-due (<= stele--delivery-due due)))
      (when stele--delivery-timer (cancel-timer stele--delivery-timer))
      (setq stele--delivery-due due
            stele--delivery-timer (run-at-time delay nil #'stele--deliver)))))

(defun stele--backoff ()
  "Schedule the next attempt after a failure, with exponential backoff."
  (setq stele--failures (1+ stele--failures))
  (let* ((base (min stele-retry-max-delay
                    (* stele-retry-initial-delay (expt 2 (min 20 (1- stele--failures))))))
         (jitter (* base 0.2 (/ (random 1000) 1000.0))))
    (stele--schedule-delivery (+ base jitter))))

(defun stele--next-batch ()
  "The device and spool files of the next batch, or nil when all is sent."
  (cl-loop for device in stele--devices
           for files = (stele--spool-files device (if stele--single 1 stele-batch-size))
           when files return (cons device files)))

(defun stele--deliver ()
  "Send the next batch of spooled events, if any."
  (setq stele--delivery-timer nil stele--delivery-due nil)
  (stele--guard "delivery"
    (let ((batch (and (not stele--delivering) (stele--next-batch))))
      (when batch
        (let* ((device (car batch))
               (files (cdr batch))
               (bodies (mapcar #'stele--read-file files))
               (body (concat "[" (mapconcat (lambda (b) (stele-json-ascii (decode-coding-string b 'utf-8)))
                                            bodies ",")
                             "]")))
          (setq stele--delivering t)
          (stele--api "/v1/events" :method "POST" :body body :content-type "application/json"
                      :callback (lambda (status answer)
                                  (setq stele--delivering nil)
                                  (stele--delivered device files bodies status answer))))))))

(defun stele--delivered (device files bodies status answer)
  "Handle the collector's STATUS and ANSWER to the batch FILES of DEVICE.
BODIES are the files' bytes."
  (cond
   ((eql status 201)
    (let ((entries (stele-json-get answer 'entries))
          (ids (mapcar (lambda (b) (stele-json-get (stele-json-parse (decode-coding-string b 'utf-8)) 'id))
                       bodies)))
      (if (not (equal (mapcar (lambda (e) (stele-json-get e 'id)) entries) ids))
          (progn (setq stele--last-error "the collector answered for other events")
                 (stele--backoff))
        (stele--receipts-add device
                             (cl-mapcar (lambda (e b)
                                          (format "%s %d %s\n" (stele-json-get e 'id)
                                                  (stele-json-get e 'index) (stele--sha256-hex b)))
                                        entries bodies))
        (stele--spool-remove device files)
        (setq stele--failures 0 stele--last-error nil)
        (stele--state-put :last-delivery (stele--now)
                          :checkpoint-seen (stele-json-get answer 'checkpoint))
        (if (stele--next-batch)
            (stele--schedule-delivery 0)
          (setq stele--single nil)))))
   ((and (memql status '(409 413 422)) (> (length files) 1))
    ;; One of them is refused: find it by sending one at a time.
    (setq stele--single t)
    (stele--schedule-delivery 0))
   ((memql status '(409 413 422))
    (stele--log "the collector refused %s (%s): kept in rejected/" (car files) status)
    (display-warning 'stele (format "The collector refused event %s: %s; it is kept in %s"
                                    (file-name-base (car files)) (stele-json-encode answer)
                                    (expand-file-name "rejected/" (stele--device-dir device))))
    (stele--spool-reject device (car files) (stele-json-encode answer))
    (setq stele--single nil)
    (stele--schedule-delivery 0))
   (t
    (setq stele--last-error (format "%s: %s" (or status "unreachable")
                                    (if (stringp answer) answer (stele-json-encode answer))))
    (stele--log "delivery failed: %s" stele--last-error)
    (stele--backoff))))

(defun stele-flush (&optional timeout)
  "Deliver the spool now, waiting at most TIMEOUT seconds.
Gives up after two failed attempts in a row (the collector is away:
the spool waits for the next session).  Returns non-nil when the
spool is empty."
  (let ((deadline (+ (float-time) (or timeout stele-exit-flush-timeout))))
    (setq stele--failures 0)
    (while (and (stele--next-batch) (< (float-time) deadline) (< stele--failures 2))
      (unless stele--delivering (stele--deliver))
      (accept-process-output nil 0.05))
    (null (stele--next-batch))))

(provide 'stele-deliver)
;;; stele-deliver.el ends here
