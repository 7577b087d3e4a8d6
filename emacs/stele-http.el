;;; stele-http.el --- Asynchronous requests to the collector  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Every request is asynchronous (`url-retrieve'), bounded by a timer, and
;; ends in one call of its callback with the status (nil when the
;; collector could not be reached) and the parsed JSON answer.  Secrets
;; travel only inside this process: no command line ever holds a token.
;;
;; The bearer token is $STELE_TOKEN, else the file `stele-api-token-file',
;; else the login kept in `stele-credentials-file' (the format of the
;; `stele login' command), refreshed with its refresh token when it is
;; about to expire.

;;; Code:

(require 'cl-lib)
(require 'url)
(require 'url-http)
(require 'stele-core)
(require 'stele-json)

(defvar url-http-end-of-headers)
(defvar url-http-response-status)

(defcustom stele-request-timeout 30
  "Seconds a request to the collector or identity provider may take."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defun stele--server ()
  "The collector's origin (no trailing slash), or nil when none is set."
  (let ((url (or stele-server (getenv "STELE_SERVER"))))
    (and url (not (equal url "")) (replace-regexp-in-string "/+\\'" "" url))))

(defun stele--form (fields)
  "FIELDS, an alist of strings (nil values left out), as a form body."
  (mapconcat (lambda (cell) (concat (url-hexify-string (car cell)) "=" (url-hexify-string (cdr cell))))
             (cl-remove-if-not #'cdr fields) "&"))

(cl-defun stele--request (url &key (method "GET") body content-type token callback)
  "Send METHOD to URL with BODY (an ASCII string) and call CALLBACK.
CONTENT-TYPE names the body's type; TOKEN is sent as a bearer token.
CALLBACK gets the HTTP status (nil on a transport failure) and the
parsed JSON answer (or the error text)."
  (let* ((done nil)
         (timer nil)
         (buffer nil)
         (finish (lambda (status answer)
                   (unless done
                     (setq done t)
                     (when timer (cancel-timer timer))
                     (when (buffer-live-p buffer)
                       (let ((kill-buffer-query-functions nil))
                         (kill-buffer buffer)))
                     (stele--guard "a request callback"
                       (funcall callback status answer)))))
         (url-request-method method)
         (url-request-data (and body (encode-coding-string body 'us-ascii)))
         (url-request-extra-headers
          `(("Accept" . "application/json")
            ,@(and content-type `(("Content-Type" . ,content-type)))
            ,@(and token `(("Authorization" . ,(concat "Bearer " token))))))
         (url-request-noninteractive t)
         (url-show-status nil)
         (url-mime-accept-string "application/json"))
    (condition-case err
        (progn
          (setq buffer
                (url-retrieve
                 url
                 (lambda (status)
                   (let ((failure (plist-get status :error))
                         (code (and (boundp 'url-http-response-status) url-http-response-status)))
                     (if (and failure (not (integerp code)))
                         (funcall finish nil (format "%S" failure))
                       (let* ((text (if (and (boundp 'url-http-end-of-headers) url-http-end-of-headers)
                                        (buffer-substring-no-properties url-http-end-of-headers (point-max))
                                      ""))
                              (json (ignore-errors
                                      (stele-json-parse (decode-coding-string text 'utf-8)))))
                         (funcall finish code (or json text))))))
                 nil t t))
          (setq timer (run-at-time stele-request-timeout nil
                                   (lambda ()
                                     (let ((proc (and (buffer-live-p buffer) (get-buffer-process buffer))))
                                       (when proc (delete-process proc)))
                                     (funcall finish nil "timed out")))))
      (error (funcall finish nil (error-message-string err))))))

(defun stele--error-code (answer)
  "The `error.code' of the collector's ANSWER, if it has one."
  (and (listp answer) (stele-json-get answer 'error 'code)))

;;;; Credentials

(defun stele--credentials-file ()
  "The parsed credentials file, or nil."
  (let ((text (stele--read-file (expand-file-name stele-credentials-file))))
    (and text (ignore-errors (stele-json-parse (decode-coding-string text 'utf-8))))))

(defun stele--credentials (server)
  "The stored login for the collector SERVER (an alist), or nil."
  (let ((servers (stele-json-get (stele--credentials-file) 'servers)))
    (cdr (assoc server (mapcar (lambda (c) (cons (symbol-name (car c)) (cdr c))) servers)))))

(defun stele--save-credentials (server credentials)
  "Store CREDENTIALS for SERVER (or forget them, when nil), mode 0600."
  (let* ((file (stele--credentials-file))
         (servers (cl-remove-if (lambda (c) (equal (symbol-name (car c)) server))
                                (stele-json-get file 'servers))))
    (when credentials (push (cons (intern server) credentials) servers))
    (stele--make-private-directory-of (expand-file-name stele-credentials-file))
    (stele--write-private (expand-file-name stele-credentials-file)
                          (stele-json-bytes `((version . 1) (servers . ,servers))))))

(defun stele--make-private-directory-of (file)
  "Create the directory of FILE with mode 0700 unless it exists."
  (let ((dir (file-name-directory file)))
    (unless (file-directory-p dir)
      (with-file-modes #o700 (make-directory dir t)))))

(defun stele--static-token ()
  "An API token from $STELE_TOKEN or `stele-api-token-file', or nil."
  (let ((env (getenv "STELE_TOKEN")))
    (cond ((and env (not (equal env ""))) env)
          (stele-api-token-file
           (let ((text (stele--read-file (expand-file-name stele-api-token-file))))
             (and text (string-trim text)))))))

(defun stele--credentials-from (base tokens &optional previous)
  "Credentials from the token endpoint's TOKENS over BASE.
Tokens PREVIOUS had and TOKENS lack are kept."
  (let* ((get (lambda (k) (stele-json-get tokens k)))
         (id-token (or (funcall get 'id_token) (stele-json-get previous 'idToken)))
         (refresh (or (funcall get 'refresh_token) (stele-json-get previous 'refreshToken)))
         (expires (+ (stele--now-ms) (* 1000 (or (funcall get 'expires_in) 300)))))
    (append (cl-remove-if (lambda (c) (memq (car c) '(accessToken idToken refreshToken expiresAt))) base)
            `((accessToken . ,(funcall get 'access_token))
              ,@(and id-token `((idToken . ,id-token)))
              ,@(and refresh `((refreshToken . ,refresh)))
              (expiresAt . ,expires)))))

(defun stele--bearer (callback &optional force)
  "Call CALLBACK with a bearer token for the collector, or nil and an error.
A stored login is refreshed first when it expires within a minute,
or when FORCE is non-nil."
  (let* ((server (stele--server))
         (static (stele--static-token))
         (creds (and server (not static) (stele--credentials server))))
    (cond
     (static (funcall callback static nil))
     ((not server) (funcall callback nil "no collector: set `stele-server'"))
     ((not creds) (funcall callback nil (format "not logged in to %s: M-x stele-login" server)))
     ((and (not force) (> (- (or (stele-json-get creds 'expiresAt) 0) 60000) (stele--now-ms)))
      (funcall callback (stele--credential-token creds) nil))
     ((not (stele-json-get creds 'refreshToken))
      (funcall callback nil (format "the login to %s has expired: M-x stele-login" server)))
     (t
      (stele--request
       (stele-json-get creds 'tokenEndpoint)
       :method "POST" :content-type "application/x-www-form-urlencoded"
       :body (stele--form `(("grant_type" . "refresh_token")
                            ("refresh_token" . ,(stele-json-get creds 'refreshToken))
                            ("client_id" . ,(stele-json-get creds 'clientId))
                            ("resource" . ,(stele-json-get creds 'resource))))
       :callback (lambda (status answer)
                   (if (and (eql status 200) (stele-json-get answer 'access_token))
                       (let ((fresh (stele--credentials-from creds answer creds)))
                         (stele--save-credentials server fresh)
                         (funcall callback (stele--credential-token fresh) nil))
                     (funcall callback nil (format "refreshing the login failed (%s): M-x stele-login"
                                                   (or status "unreachable"))))))))))

(defun stele--credential-token (creds)
  "The token of the stored login CREDS the collector takes."
  (if (equal (stele-json-get creds 'token) "id")
      (stele-json-get creds 'idToken)
    (stele-json-get creds 'accessToken)))

(cl-defun stele--api (path &key (method "GET") body content-type callback)
  "Call the collector's PATH with METHOD, BODY and CONTENT-TYPE.
CALLBACK gets the status and the answer.
A login whose token the collector calls expired is refreshed once."
  (let ((server (stele--server)))
    (cl-labels ((send (force)
                      (stele--bearer
                       (lambda (token err)
                         (if (not token)
                             (funcall callback nil err)
                           (stele--request
                            (concat server path) :method method :body body :content-type content-type
                            :token token
                            :callback (lambda (status answer)
                                        (if (and (eql status 401) (not force) (not (stele--static-token))
                                                 (equal (stele--error-code answer) "ERR_TOKEN_EXPIRED"))
                                            (send t)
                                          (funcall callback status answer))))))
                       force)))
      (if server (send nil) (funcall callback nil "no collector: set `stele-server'")))))

(provide 'stele-http)
;;; stele-http.el ends here
