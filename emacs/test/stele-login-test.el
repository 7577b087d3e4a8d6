;;; stele-login-test.el --- Log in through a real OpenID provider  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by test/emacs.test.ts, which starts a real OpenID provider and a
;; collector trusting it, sets STELE_TEST_OIDC_SERVER to the collector's
;; URL, and plays the user: when this Emacs prints "open: URL" it approves
;; the device code in the provider's pages as alice.  Skipped otherwise.

;;; Code:

(require 'ert)
(require 'stele)

(defun stele-login-test-wait (predicate timeout what)
  "Process events until PREDICATE holds; fail after TIMEOUT seconds naming WHAT."
  (let ((deadline (+ (float-time) timeout)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall predicate) (ert-fail (format "timed out waiting for %s" what)))))

(ert-deftest stele-login-device-flow ()
  "`stele-login' through the device flow; events then carry the verified person."
  (let ((server (getenv "STELE_TEST_OIDC_SERVER")))
    (unless server (ert-skip "STELE_TEST_OIDC_SERVER is not set (test/emacs.test.ts sets it)"))
    (let* ((home (file-name-as-directory (make-temp-file "stele-login-" t)))
           (stele-directory (expand-file-name "stele/" home))
           (stele-credentials-file (expand-file-name "config/stele/credentials.json" home))
           (stele-api-token-file nil)
           (stele-server nil)
           (stele-delivery-delay 0.05)
           (process-environment (cons "STELE_TOKEN" process-environment))
           (stele-login-display-function
            (lambda (_uri code complete)
              ;; The harness reads this line on stderr and approves as alice.
              (message "code: %s\nopen: %s" code complete))))
      (unwind-protect
          (progn
            (stele-login server)
            (stele-login-test-wait (lambda () (plist-get (stele--state) :identity)) 60 "the login")
            (should (= (logand (file-modes stele-credentials-file) #o777) #o600))
            (should (equal (stele-json-get (plist-get (stele--state) :identity) 'actor 'email) "alice@example.com"))
            (should (string-match-p "alice@example.com" (stele--status-text)))
            (stele-mode 1)
            (let ((id (stele-annotate "approved in CHG-7")))
              (should (stele-flush 30))
              (let (answer)
                (stele--api (concat "/v1/events/" id) :callback (lambda (status body) (setq answer (list status body))))
                (stele-login-test-wait (lambda () answer) 30 "the event")
                (should (equal (list id (car answer)) (list id 200)))
                (let ((event (stele-json-get (cadr answer) 'event)))
                  (should (equal (stele-json-get event 'actor 'email) "alice@example.com"))
                  (should (equal (stele-json-get event 'actor 'id) "alice"))
                  (should (eq (stele-json-get event 'actor 'verified) t))
                  (should (equal (stele-json-get event 'details 'claimedActor 'id) (user-login-name)))
                  (should (equal (stele-json-get event 'submitter 'type) "oidc"))
                  (should (equal (stele-json-get event 'reason) "approved in CHG-7"))))
              ;; The receipts verify: the sent form puts the claimed actor back.
              (let (result)
                (stele-verify-receipts-async (lambda (r) (setq result r)))
                (stele-login-test-wait (lambda () result) 30 "verification")
                (should (equal (plist-get result :problems) nil))
                (should (>= (plist-get result :checked) 3)))
              ;; stele-log lists alice's events from the collector.
              (stele-log)
              (stele-login-test-wait (lambda () (with-current-buffer "*stele-log-events*" tabulated-list-entries))
                                     30 "stele-log")
              (should (assoc id (with-current-buffer "*stele-log-events*" tabulated-list-entries)))
              ;; An expired login is refreshed with the refresh token, silently.
              (let* ((creds (stele--credentials (stele--server)))
                     (old (stele-json-get creds 'accessToken)))
                (setf (alist-get 'expiresAt creds) 0)
                (stele--save-credentials (stele--server) creds)
                (let (token)
                  (stele--bearer (lambda (tok _err) (setq token (or tok 'failed))))
                  (stele-login-test-wait (lambda () token) 30 "the refresh")
                  (should (stringp token))
                  (should-not (equal token old))))))
        (when stele-mode (stele-mode -1))
        (stele-flush 10)
        (stele--release-devices)
        (delete-directory home t)))))

(provide 'stele-login-test)
;;; stele-login-test.el ends here
