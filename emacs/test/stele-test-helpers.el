;;; stele-test-helpers.el --- A real collector for the ERT tests  -*- lexical-binding: t; -*-

;;; Commentary:

;; Starts the project's own collector (`stele serve', the built CLI) on
;; loopback with a fresh data directory, and gives the tests a fresh Stele
;; installation around each body: its own `stele-directory', the
;; collector's admin token as `stele-api-token-file', short delays.
;; Reading back goes through the collector's HTTP API.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'stele)

(defconst stele-test-root
  (expand-file-name "../../" (file-name-directory (or load-file-name buffer-file-name)))
  "The repository root.")

(defconst stele-test-bin (expand-file-name "packages/cli/bin/stele.js" stele-test-root)
  "The `stele' command as built.")

(defvar stele-test-collector nil "The running collector: plist :process :dir :url :port.")
(defvar stele-test-temp-dirs nil "Directories to remove at exit.")

(defun stele-test-temp-dir (label)
  "A new temporary directory named after LABEL, removed at exit."
  (let ((dir (file-name-as-directory (make-temp-file (format "stele-el-%s-" label) t))))
    (push dir stele-test-temp-dirs)
    dir))

(defun stele-test-wait (predicate &optional timeout what)
  "Process events until PREDICATE is non-nil; fail after TIMEOUT seconds naming WHAT."
  (let ((deadline (+ (float-time) (or timeout 20))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (or (funcall predicate)
        (ert-fail (format "timed out waiting for %s" (or what predicate))))))

(defun stele-test-start-collector (&optional dir port)
  "Start `stele serve' on DIR (fresh if nil) and PORT (free if nil)."
  (unless (file-exists-p (expand-file-name "packages/cli/dist/index.js" stele-test-root))
    (error "Build the CLI first: cd %s && npx tsc --build" stele-test-root))
  (let* ((dir (or dir (expand-file-name "data" (stele-test-temp-dir "collector"))))
         (out (generate-new-buffer " *stele-collector*"))
         (process-environment (cons "STELE_LOG_LEVEL=warn" process-environment))
         (proc (make-process :name "stele-serve" :buffer out :noquery t :connection-type 'pipe
                             :command (list "node" stele-test-bin "serve" "--dir" dir
                                            "--port" (number-to-string (or port 0)))
                             :stderr out))
         url)
    (stele-test-wait (lambda ()
                       (with-current-buffer out
                         (goto-char (point-min))
                         (when (re-search-forward "listening on \\(http://[^ \n]+\\)" nil t)
                           (setq url (replace-regexp-in-string "/\\'" "" (match-string 1))))))
                     30 "the collector to listen")
    (setq stele-test-collector
          (list :process proc :dir dir :url url
                :port (string-to-number (car (last (split-string url ":"))))))
    url))

(defun stele-test-stop-collector ()
  "Stop the collector with SIGTERM and wait for it to exit."
  (let ((proc (plist-get stele-test-collector :process)))
    (when (process-live-p proc)
      (signal-process proc 'TERM)
      (stele-test-wait (lambda () (not (process-live-p proc))) 20 "the collector to stop"))))

(defun stele-test-collector ()
  "The URL of the running collector, started on first use."
  (unless (process-live-p (plist-get stele-test-collector :process))
    (stele-test-start-collector (plist-get stele-test-collector :dir)
                                (plist-get stele-test-collector :port)))
  (plist-get stele-test-collector :url))

(defun stele-test-token-file ()
  "The collector's admin token file."
  (expand-file-name "admin.token" (plist-get stele-test-collector :dir)))

(defun stele-test-api (path &optional token)
  "GET PATH from the collector with TOKEN (default: the admin token); the answer."
  (let ((result nil)
        (token (or token (string-trim (with-temp-buffer
                                        (insert-file-contents (stele-test-token-file))
                                        (buffer-string))))))
    (stele--request (concat (stele-test-collector) path) :token token
                    :callback (lambda (status answer) (setq result (list status answer))))
    (stele-test-wait (lambda () result) 20 (concat "GET " path))
    (unless (eql (car result) 200)
      (ert-fail (format "GET %s answered %S" path result)))
    (cadr result)))

(defun stele-test-event (id)
  "The stored record of the event ID."
  (stele-json-get (stele-test-api (concat "/v1/events/" id)) 'event))

(defun stele-test-reset ()
  "Forget every trace of an earlier Stele in this Emacs."
  (when stele-mode (stele-mode -1))
  (stele--release-devices)
  (when stele--delivery-timer (cancel-timer stele--delivery-timer))
  (setq stele--delivery-timer nil stele--delivery-due nil stele--delivering nil
        stele--failures 0 stele--single nil stele--last-error nil
        stele--started nil stele--actor nil stele--host nil stele--hmac-key-bytes nil
        stele-git--repos nil stele-git--busy nil)
  (clrhash stele-git--roots))

(defmacro stele-test-with-stele (&rest body)
  "Run BODY with a fresh Stele installation sending to the test collector."
  (declare (indent 0) (debug t))
  `(let* ((stele-server (stele-test-collector))
          (stele-directory (stele-test-temp-dir "home"))
          (stele-api-token-file (stele-test-token-file))
          (stele-credentials-file (expand-file-name "credentials.json" stele-directory))
          (stele-delivery-delay 0.05)
          (stele-retry-initial-delay 0.2)
          (stele-retry-max-delay 1)
          (stele-commit-poll-interval 0.5)
          (stele-heartbeat-interval 3600)
          (process-environment (cons "STELE_TOKEN" process-environment)))
     (stele-test-reset)
     (unwind-protect
         (progn (stele-mode 1) ,@body)
       (stele-test-reset))))

(defun stele-test-delivered ()
  "Wait until the spool is empty and nothing is in flight."
  (stele-test-wait (lambda () (and (not stele--delivering) (zerop (stele--spool-count))))
                   30 "the spool to be delivered"))

(defun stele-test-last-id ()
  "The id of the newest event spooled on the capturing device."
  (let ((device (car stele--devices)))
    (format "%s/%d" (stele--device-id device) (stele--device-seq device))))

(defun stele-test-git (dir &rest args)
  "Run git with ARGS in DIR; its output, or fail."
  (with-temp-buffer
    (let* ((default-directory dir)
           (process-environment (append '("GIT_AUTHOR_NAME=Ada" "GIT_AUTHOR_EMAIL=ada@example.com"
                                          "GIT_COMMITTER_NAME=Ada" "GIT_COMMITTER_EMAIL=ada@example.com")
                                        process-environment))
           (code (apply #'call-process "git" nil t nil args)))
      (unless (zerop code) (ert-fail (format "git %S: %s" args (buffer-string))))
      (string-trim (buffer-string)))))

(defun stele-test-git-repo ()
  "A new Git repository with one commit on main."
  (let ((dir (stele-test-temp-dir "repo")))
    (stele-test-git dir "init" "-q" "-b" "main")
    (stele-test-git dir "config" "user.name" "Ada")
    (stele-test-git dir "config" "user.email" "ada@example.com")
    (with-temp-file (expand-file-name "README" dir) (insert "hello\n"))
    (stele-test-git dir "add" "README")
    (stele-test-git dir "commit" "-q" "-m" "initial")
    dir))

(defun stele-test-cleanup ()
  "Stop the collector and remove the temporary directories."
  (ignore-errors (stele-test-reset))
  (ignore-errors (stele-test-stop-collector))
  (dolist (dir stele-test-temp-dirs) (ignore-errors (delete-directory dir t))))

(add-hook 'kill-emacs-hook #'stele-test-cleanup)

(provide 'stele-test-helpers)
;;; stele-test-helpers.el ends here
