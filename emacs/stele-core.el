;;; stele-core.el --- Options and shared helpers of Stele  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; The customization group of Stele, the options every part shares, and
;; small helpers: the clock, text cleaning for the event schema
;; (docs/EVENT.md), hex and SHA-256, and the diagnostics buffer.

;;; Code:

(require 'cl-lib)

(defgroup stele nil
  "Record what you change in Emacs in a Stele tamper-evident audit log."
  :group 'tools
  :prefix "stele-")

(defconst stele-version "0.1.0"
  "The version of the Stele Emacs package.")

(defcustom stele-server nil
  "The URL of the Stele collector, such as \"https://stele.example.com\".
Events are kept in the local spool until it is set and reachable."
  :type '(choice (const :tag "Not configured" nil) (string :tag "URL"))
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-directory (locate-user-emacs-file "stele/")
  "Where Stele keeps its device identity, spool, receipts and state.
The directory is created with mode 0700 and its files with 0600."
  :type 'directory
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-api-token-file nil
  "A file holding an API token for the collector, or nil.
Used instead of the login of `stele-login' when set (as is the
environment variable STELE_TOKEN, which takes precedence).  The
token is read when needed and never passed to another process."
  :type '(choice (const :tag "None: use the login or STELE_TOKEN" nil) file)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-credentials-file
  (expand-file-name "stele/credentials.json"
                    (or (getenv "XDG_CONFIG_HOME") "~/.config"))
  "Where logins are kept, per collector, with mode 0600.
The default is the file of the `stele login' command, so a login
made in a shell is used by Emacs and the other way round."
  :type 'file
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defvar stele--diagnostics-buffer "*stele-log*"
  "The buffer where Stele writes what went wrong in the background.")

(defun stele--log (format-string &rest args)
  "Append FORMAT-STRING formatted with ARGS to the diagnostics buffer.
Background work never signals into the command loop; it writes here."
  (let ((text (apply #'format format-string args)))
    (with-current-buffer (get-buffer-create stele--diagnostics-buffer)
      (let ((inhibit-read-only t))
        (goto-char (point-max))
        (insert (format-time-string "%F %T ") text "\n")))
    (when (getenv "STELE_DEBUG")
      (message "stele: %s" text))))

(defmacro stele--guard (what &rest body)
  "Run BODY; log an error instead of signaling it, naming WHAT."
  (declare (indent 1) (debug t))
  `(condition-case err
       (progn ,@body)
     (error (stele--log "%s failed: %s" ,what (error-message-string err)) nil)))

(defun stele--now ()
  "The current time in the event schema's form: UTC with milliseconds."
  (format-time-string "%Y-%m-%dT%H:%M:%S.%3NZ" nil t))

(defun stele--now-ms ()
  "The current time in epoch milliseconds."
  (floor (* 1000 (float-time))))

(defun stele--sha256-hex (bytes)
  "The lower-case hex SHA-256 of the unibyte string BYTES."
  (secure-hash 'sha256 bytes))

(defun stele--hex-to-bytes (hex)
  "The unibyte string whose hex spelling is HEX."
  (apply #'unibyte-string
         (cl-loop for i from 0 below (length hex) by 2
                  collect (string-to-number (substring hex i (+ i 2)) 16))))

(defun stele--bytes-to-hex (bytes)
  "The lower-case hex spelling of the unibyte string BYTES."
  (mapconcat (lambda (b) (format "%02x" b)) bytes ""))

(defconst stele--control-regexp "[\0-\37\177\200-\237]"
  "Characters the event schema refuses outside `details': C0, DEL, C1.")

(defun stele--valid-unicode (string)
  "STRING with raw bytes and surrogates replaced by U+FFFD."
  (if (string-match-p "[\ud800-\udfff\x3fff80-\x3fffff]" string)
      (replace-regexp-in-string "[\ud800-\udfff\x3fff80-\x3fffff]" "\ufffd" string t t)
    string))

(defun stele--text (value max &optional multiline)
  "VALUE as a schema string of at most MAX characters, or nil when empty.
Control characters are removed; with MULTILINE, tabs and newlines are
kept (the `reason' field), carriage returns never are."
  (when (and value (not (equal value "")))
    (let* ((s (stele--valid-unicode (if (stringp value) value (format "%s" value))))
           (s (if multiline
                  (replace-regexp-in-string
                   "[\0-\10\13-\37\177\200-\237]" ""
                   (replace-regexp-in-string "\r\n?" "\n" s t t) t t)
                (if (string-match-p stele--control-regexp s)
                    (replace-regexp-in-string stele--control-regexp "" s t t)
                  s)))
           (s (if (> (length s) max) (substring s 0 max) s)))
      (unless (equal s "") (substring-no-properties s)))))

(defun stele--write-private (file contents)
  "Write the unibyte string CONTENTS to FILE atomically, mode 0600."
  (let ((tmp (format "%s.%d.tmp" file (emacs-pid)))
        (coding-system-for-write 'binary)
        (file-name-handler-alist nil)
        (create-lockfiles nil)
        (write-region-inhibit-fsync t))
    (make-directory (file-name-directory file) t)
    (when (file-exists-p tmp) (delete-file tmp))
    (with-file-modes #o600
      (write-region contents nil tmp nil 'silent nil 'excl))
    (set-file-modes tmp #o600)
    (rename-file tmp file t)))

(defvar stele--read-buffer nil
  "A unibyte buffer reused to read files: cheaper than a new one each time.")

(defmacro stele--with-file-bytes (file &rest body)
  "Run BODY in a unibyte buffer holding the bytes of FILE; nil if it is missing.
The buffer is reused: BODY must not keep it."
  (declare (indent 1) (debug t))
  (let ((name (make-symbol "file")))
    `(let ((,name ,file))
       (when (file-readable-p ,name)
         (unless (buffer-live-p stele--read-buffer)
           (setq stele--read-buffer (generate-new-buffer " *stele-read*"))
           (with-current-buffer stele--read-buffer
             (set-buffer-multibyte nil)
             (buffer-disable-undo)))
         (with-current-buffer stele--read-buffer
           (erase-buffer)
           (let ((coding-system-for-read 'binary)
                 (file-name-handler-alist nil))
             (insert-file-contents-literally ,name))
           ,@body)))))

(defun stele--read-file (file)
  "The contents of FILE as a unibyte string, or nil when it is missing."
  (stele--with-file-bytes file (buffer-string)))

(defun stele--random-hex (bytes)
  "BYTES random bytes in hex, from the system's random source if it has one.
Called once per installation (device id, HMAC key), so a process is fine."
  (let ((raw (and (file-readable-p "/dev/urandom")
                  (with-temp-buffer
                    (set-buffer-multibyte nil)
                    (let ((coding-system-for-read 'binary))
                      (ignore-errors
                        (call-process "head" nil t nil "-c" (number-to-string bytes) "/dev/urandom")))
                    (buffer-string)))))
    (if (and raw (= (length raw) bytes))
        (stele--bytes-to-hex raw)
      ;; No /dev/urandom (Windows): hash what varies; `random' with t is seeded by the OS.
      (random t)
      (substring (secure-hash 'sha256 (format "%S%S%S%S%S" (random) (random) (current-time)
                                              (emacs-pid) (system-name)))
                 0 (* 2 bytes)))))

(defun stele--count (n singular &optional plural)
  "N followed by SINGULAR, or by PLURAL (SINGULAR with an s) unless N is 1."
  (format "%d %s" n (if (= n 1) singular (or plural (concat singular "s")))))

(provide 'stele-core)
;;; stele-core.el ends here
