;;; stele-login.el --- Log in to the collector through the device flow  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; `stele-login' asks only for the collector's URL.  The collector names
;; its identity provider (GET /v1/auth/config); the OAuth 2.0 device
;; authorization grant (RFC 8628) shows a code to enter in a browser, and
;; polls for the tokens from timers, so Emacs stays usable meanwhile.
;; The tokens are kept as `stele login' keeps them (mode 0600), and the
;; collector is asked who they say we are (GET /v1/auth/whoami).

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-json)
(require 'stele-spool)
(require 'stele-http)

(defvar stele-login-display-function #'stele-login--display
  "Shows the device flow's verification URI, user code and complete URI.")

(defvar stele--login-timer nil "The timer polling the token endpoint.")

(defun stele-login--display (uri code complete)
  "Tell the user to visit URI and enter CODE (or open COMPLETE)."
  (when complete (ignore-errors (kill-new complete)))
  (message "Stele: to sign in, visit %s and enter the code %s\nopen: %s" uri code (or complete uri)))

(defun stele-login--fail (text)
  "Report that the login failed because of TEXT."
  (message "Stele: login failed: %s" text)
  (stele--log "login failed: %s" text))

(defun stele-login--endpoints (issuer callback)
  "Call CALLBACK with the (DEVICE . TOKEN . REVOCATION) endpoints of ISSUER."
  (let ((device (stele-json-get issuer 'deviceAuthorizationEndpoint))
        (token (stele-json-get issuer 'tokenEndpoint)))
    (if (and device token)
        (funcall callback (list device token (stele-json-get issuer 'revocationEndpoint)))
      (let ((base (replace-regexp-in-string "/+\\'" "" (stele-json-get issuer 'issuer))))
        (stele--request
         (concat base "/.well-known/openid-configuration")
         :callback (lambda (status meta)
                     (if (and (eql status 200) (equal (stele-json-get meta 'issuer) (stele-json-get issuer 'issuer))
                              (stele-json-get meta 'device_authorization_endpoint))
                         (funcall callback (list (stele-json-get meta 'device_authorization_endpoint)
                                                 (stele-json-get meta 'token_endpoint)
                                                 (stele-json-get meta 'revocation_endpoint)))
                       (stele-login--fail "the identity provider offers no device flow"))))))))

(defun stele-login--poll (server issuer endpoints device-code interval deadline)
  "Poll the token endpoint of ENDPOINTS for DEVICE-CODE every INTERVAL seconds.
SERVER and ISSUER describe the login; DEADLINE ends it."
  (setq stele--login-timer
        (run-at-time
         interval nil
         (lambda ()
           (stele--request
            (nth 1 endpoints)
            :method "POST" :content-type "application/x-www-form-urlencoded"
            :body (stele--form `(("grant_type" . "urn:ietf:params:oauth:grant-type:device_code")
                                 ("device_code" . ,device-code)
                                 ("client_id" . ,(stele-json-get issuer 'clientId))))
            :callback
            (lambda (status answer)
              (let ((error-code (and (listp answer) (stele-json-get answer 'error))))
                (cond
                 ((and (eql status 200) (stele-json-get answer 'access_token))
                  (stele-login--finish server issuer endpoints answer))
                 ((and (equal error-code "authorization_pending") (< (float-time) deadline))
                  (stele-login--poll server issuer endpoints device-code interval deadline))
                 ((equal error-code "slow_down")
                  (stele-login--poll server issuer endpoints device-code (+ interval 5) deadline))
                 (t (stele-login--fail (format "the identity provider answered %s %s"
                                               status (or error-code answer))))))))))))

(defun stele-login--finish (server issuer endpoints tokens)
  "Keep the TOKENS for SERVER from ISSUER and its ENDPOINTS; ask who we are."
  (let ((creds (stele--credentials-from
                `((issuer . ,(stele-json-get issuer 'issuer))
                  (issuerName . ,(stele-json-get issuer 'name))
                  (clientId . ,(stele-json-get issuer 'clientId))
                  (tokenEndpoint . ,(nth 1 endpoints))
                  ,@(and (nth 2 endpoints) `((revocationEndpoint . ,(nth 2 endpoints))))
                  (token . ,(or (stele-json-get issuer 'token) "access"))
                  (scopes . ,(or (stele-json-get issuer 'scopes) []))
                  ,@(and (stele-json-get issuer 'resource) `((resource . ,(stele-json-get issuer 'resource)))))
                tokens)))
    (stele--save-credentials server creds)
    (stele--request
     (concat server "/v1/auth/whoami") :token (stele--credential-token creds)
     :callback (lambda (status answer)
                 (if (not (eql status 200))
                     (progn (stele--save-credentials server nil)
                            (stele-login--fail (format "the collector refused the login: %s %s" status
                                                       (or (stele--error-code answer) ""))))
                   (stele--state-put :identity answer :identity-server server)
                   (message "Stele: logged in to %s as %s" server (stele--describe-identity answer)))))))

(defun stele--describe-identity (whoami)
  "A line describing the caller WHOAMI the collector answered."
  (let ((actor (stele-json-get whoami 'actor)))
    (pcase (stele-json-get whoami 'type)
      ("oidc" (format "%s (%s, via %s)"
                      (or (stele-json-get actor 'email) (stele-json-get actor 'id))
                      (or (stele-json-get actor 'name) "") (stele-json-get whoami 'issuer)))
      ("token" (format "API token %s" (stele-json-get whoami 'name)))
      (_ "anonymous"))))

;;;###autoload
(defun stele-login (server)
  "Log in to the Stele collector at SERVER with its identity provider.
Shows a code to enter in a browser (the device flow); the login is
kept for Emacs and the `stele' command alike."
  (interactive (list (read-string "Stele collector URL: " (or stele-server (getenv "STELE_SERVER")))))
  (let ((server (replace-regexp-in-string "/+\\'" "" server)))
    (unless (string-match-p "\\`https?://[^/]+\\'" server)
      (user-error "Not a collector URL: %s" server))
    (unless (equal server stele-server)
      (customize-save-variable 'stele-server server))
    (when stele--login-timer (cancel-timer stele--login-timer))
    (stele--request
     (concat server "/v1/auth/config")
     :callback
     (lambda (status config)
       (let* ((issuers (and (eql status 200) (stele-json-get config 'issuers)))
              (issuer (and (vectorp issuers) (> (length issuers) 0) (aref issuers 0))))
         (if (not issuer)
             (stele-login--fail (format "%s names no identity provider (%s); use an API token" server status))
           (stele-login--endpoints
            issuer
            (lambda (endpoints)
              (stele--request
               (nth 0 endpoints)
               :method "POST" :content-type "application/x-www-form-urlencoded"
               :body (stele--form `(("client_id" . ,(stele-json-get issuer 'clientId))
                                    ("scope" . ,(mapconcat #'identity (stele-json-get issuer 'scopes) " "))
                                    ("resource" . ,(stele-json-get issuer 'resource))))
               :callback
               (lambda (status auth)
                 (if (not (and (eql status 200) (stele-json-get auth 'device_code)))
                     (stele-login--fail (format "the device authorization was refused: %s" status))
                   (funcall stele-login-display-function
                            (stele-json-get auth 'verification_uri) (stele-json-get auth 'user_code)
                            (stele-json-get auth 'verification_uri_complete))
                   (stele-login--poll server issuer endpoints (stele-json-get auth 'device_code)
                                      (max 1 (or (stele-json-get auth 'interval) 5))
                                      (+ (float-time) (or (stele-json-get auth 'expires_in) 600))))))))))))))

;;;###autoload
(defun stele-logout ()
  "Forget the login to `stele-server'."
  (interactive)
  (let ((server (stele--server)))
    (when server (stele--save-credentials server nil))
    (stele--state-put :identity nil)
    (message "Stele: logged out of %s" server)))

(provide 'stele-login)
;;; stele-login.el ends here
