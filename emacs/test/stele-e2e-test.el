;;; stele-e2e-test.el --- Stele against a real collector  -*- lexical-binding: t; -*-

;;; Commentary:

;; Each test turns `stele-mode' on in a fresh installation, makes Emacs do
;; what a person would (save, customize, install a package, commit), and
;; reads the events back from the collector's API.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'package)
(require 'vc)
(require 'vc-git)
(require 'stele)
(require 'stele-test-helpers)

(defun stele-test-save (file text)
  "Visit FILE, insert TEXT, save; return the id of the event recorded."
  (let ((buffer (find-file-noselect file)))
    (unwind-protect
        (with-current-buffer buffer
          (goto-char (point-max))
          (insert text)
          (save-buffer)
          (stele-test-last-id))
      (kill-buffer buffer))))

(defun stele-test-file-sha256 (file)
  "The SHA-256 of FILE's bytes."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (insert-file-contents-literally file)
    (secure-hash 'sha256 (buffer-string))))

(defun stele-test-mode-bits (file)
  "The permission bits of FILE."
  (logand (file-modes file) #o777))

(ert-deftest stele-e2e-file-save ()
  "A save in a Git repository: path, hash, size, mode, branch, revision, reason, chain."
  (stele-test-with-stele
   (let* ((repo (stele-test-git-repo))
          (file (expand-file-name "notes.txt" repo))
          (stele-reason-required (list (regexp-quote repo)))
          (stele-reason-function (lambda (_file) "INC-42: approved by Bob"))
          (id (stele-test-save file "caf\u00e9 \U0001F600\n"))
          (spool (stele--spool-dir (car stele--devices))))
     (should (= (stele-test-mode-bits (expand-file-name stele-directory)) #o700))
     (should (= (stele-test-mode-bits spool) #o700))
     (dolist (f (directory-files spool t "\\.json\\'"))
       (should (= (stele-test-mode-bits f) #o600)))
     (stele-test-delivered)
     (should (= (stele-test-mode-bits (expand-file-name "receipts" (stele--device-dir (car stele--devices)))) #o600))
     (let ((event (stele-test-event id)))
       (should (equal (stele-json-get event 'action) "file.save"))
       (should (equal (stele-json-get event 'source) "emacs"))
       (should (equal (stele-json-get event 'target 'id) file))
       (should (equal (stele-json-get event 'target 'type) "file"))
       (should (equal (stele-json-get event 'reason) "INC-42: approved by Bob"))
       (should (equal (stele-json-get event 'details 'tickets) ["INC-42"]))
       (should (equal (stele-json-get event 'details 'sha256) (stele-test-file-sha256 file)))
       (should (equal (stele-json-get event 'details 'bytes) (file-attribute-size (file-attributes file))))
       (should (equal (stele-json-get event 'details 'mode) "text-mode"))
       (should (equal (stele-json-get event 'details 'vc 'backend) "Git"))
       (should (equal (stele-json-get event 'details 'vc 'branch) "main"))
       (should (equal (stele-json-get event 'details 'vc 'revision) (stele-test-git repo "rev-parse" "HEAD")))
       (should (equal (stele-json-get event 'details 'emacs) emacs-version))
       (should (equal (stele-json-get event 'host) (stele--compute-host)))
       (should (equal (stele-json-get event 'actor 'id) (user-login-name)))
       (should (eq (stele-json-get event 'actor 'verified) :false))
       (should (equal (stele-json-get event 'submitter 'type) "token"))
       (should (equal (stele-json-get event 'device 'id) (stele--device-id (car stele--devices))))
       (should (string-match-p "\\`[0-9a-f]\\{64\\}\\'" (stele-json-get event 'device 'prev)))))))

(ert-deftest stele-e2e-remote-save ()
  "A save through TRAMP (sudo over ssh) is recorded with its hops, privileged.
No connection is made: the save hook runs on a buffer visiting the name."
  (stele-test-with-stele
   (let ((name "/ssh:alice@web|sudo:root@web:/etc/nginx/nginx.conf") id)
     (with-temp-buffer
       (insert "worker_processes 4;\n")
       (setq buffer-file-name name buffer-file-coding-system 'utf-8-unix)
       (stele--after-save)
       (setq id (stele-test-last-id))
       (setq buffer-file-name nil))
     (stele-test-delivered)
     (let ((event (stele-test-event id)))
       (should (equal (stele-json-get event 'target 'id) name))
       (should (equal (stele-json-get event 'details 'sha256)
                      (secure-hash 'sha256 "worker_processes 4;\n")))
       (should (eq (stele-json-get event 'details 'privileged) t))
       (should (equal (stele-json-get event 'details 'remote 'method) "sudo"))
       (should (equal (stele-json-get event 'details 'remote 'user) "root"))
       (should (equal (length (stele-json-get event 'details 'remote 'hops)) 2))
       (should-not (stele-json-get event 'details 'vc))))))

(ert-deftest stele-e2e-lifecycle-and-init-file ()
  "Start, enable, an init file edit as a configuration edit, and the switch-off."
  (stele-test-with-stele
   (let* ((dir (stele-test-temp-dir "init"))
          (user-init-file (expand-file-name "init.el" dir))
          (device (stele--device-id (car stele--devices)))
          (id (stele-test-save user-init-file "(setq fill-column 72)\n")))
     (stele-mode -1)
     (stele-test-delivered)
     (let ((event (stele-test-event id)))
       (should (equal (stele-json-get event 'action) "config.edit"))
       (should (equal (stele-json-get event 'details 'config) "init-file"))
       (should (equal (stele-json-get event 'target 'id) user-init-file)))
     (should (equal (mapcar (lambda (n) (stele-json-get (stele-test-event (format "%s/%d" device n)) 'action))
                            '(1 2 4))
                    '("emacs.start" "stele.enable" "stele.disable"))))))

(defcustom stele-test-option 1
  "An option the tests customize."
  :type 'integer :group 'stele :package-version '(stele . "0.1.0"))

(defcustom stele-test-open-option "a"
  "An option whose value may be recorded in the clear."
  :type 'string :group 'stele :package-version '(stele . "0.1.0"))

(defvar stele-test-watched 0 "A variable the tests watch.")

(ert-deftest stele-e2e-configuration ()
  "Customize, custom-set-variables and watched variables; values hashed unless allowed."
  (let ((stele-watched-variables '(stele-test-watched))
        (stele-config-allow-list '(stele-test-open-option)))
    (stele-test-with-stele
     (let ((device (car stele--devices)) ids)
       (customize-set-variable 'stele-test-option 42)
       (push (stele-test-last-id) ids)
       (customize-set-variable 'stele-test-option 42) ; unchanged: nothing recorded
       (let ((custom-file (expand-file-name "custom.el" (stele-test-temp-dir "custom"))))
         (customize-save-variable 'stele-test-option 43))
       (push (stele-test-last-id) ids)
       (custom-set-variables '(stele-test-open-option "secret-free"))
       (push (stele-test-last-id) ids)
       (let ((stele-test-watched 5)) (ignore stele-test-watched)) ; a let-binding: nothing
       (setq stele-test-watched 7)
       (push (stele-test-last-id) ids)
       (should (= (stele--device-seq device) 6))
       (stele-test-delivered)
       (pcase-let ((`(,watched ,open ,saved ,custom) (mapcar #'stele-test-event ids)))
         (should (equal (stele-json-get saved 'details 'via) "customize-save-variable"))
         (should (equal (stele-json-get saved 'details 'valueHmac)
                        (stele-hmac-sha256 (stele--hmac-key) "43")))
         (should (equal (stele-json-get custom 'action) "config.change"))
         (should (equal (stele-json-get custom 'target) '((id . "stele-test-option") (type . "variable"))))
         (should (equal (stele-json-get custom 'details 'via) "customize-set-variable"))
         (should (equal (stele-json-get custom 'details 'valueHmac)
                        (stele-hmac-sha256 (stele--hmac-key) "42")))
         (should-not (stele-json-get custom 'details 'value))
         (should (equal (stele-json-get open 'details 'via) "custom-set-variables"))
         (should (equal (stele-json-get open 'details 'value) "\"secret-free\""))
         (should (equal (stele-json-get watched 'details 'via) "variable-watcher"))
         (should (equal (stele-json-get watched 'target 'id) "stele-test-watched")))))
    (setq stele-test-watched 8)
    (should-not (get-variable-watchers 'stele-test-watched))))

(defun stele-test-archive ()
  "A local package archive: foo 1.0 needing bar 1.0, and foo 1.1."
  (let ((dir (stele-test-temp-dir "archive")))
    (cl-flet ((pkg (name version requires)
                   (with-temp-file (expand-file-name (format "%s-%s.el" name version) dir)
                     (insert (format ";;; %s.el --- Test package %s  -*- lexical-binding: t; -*-\n;; Version: %s\n;; Package-Requires: %s\n;;; Commentary:\n;; A test.\n;;; Code:\n(provide '%s)\n;;; %s.el ends here\n"
                                     name name version (prin1-to-string requires) name name)))))
      (pkg "stele-test-bar" "1.0" nil)
      (pkg "stele-test-foo" "1.0" '((stele-test-bar "1.0")))
      (pkg "stele-test-foo" "1.1" '((stele-test-bar "1.0"))))
    (with-temp-file (expand-file-name "archive-contents" dir)
      (prin1 '(1 (stele-test-bar . [(1 0) nil "Bar" single nil])
                 (stele-test-foo . [(1 0) ((stele-test-bar (1 0))) "Foo" single nil]))
             (current-buffer)))
    dir))

(ert-deftest stele-e2e-packages ()
  "Install with a dependency, upgrade, and delete, from a local archive."
  (let* ((archive (stele-test-archive))
         (package-user-dir (stele-test-temp-dir "elpa"))
         (package-archives `(("stele-test" . ,archive)))
         (package-check-signature nil)
         (package-alist nil) (package-archive-contents nil) (package--initialized nil)
         (package-selected-packages nil)
         (custom-file (expand-file-name "custom.el" package-user-dir)))
    (stele-test-with-stele
     (let ((device (car stele--devices)) (first (1+ (stele--device-seq (car stele--devices)))))
       (package-initialize)
       (package-refresh-contents)
       (package-install 'stele-test-foo)
       (with-temp-file (expand-file-name "archive-contents" archive)
         (prin1 '(1 (stele-test-bar . [(1 0) nil "Bar" single nil])
                    (stele-test-foo . [(1 1) ((stele-test-bar (1 0))) "Foo" single nil]))
                (current-buffer)))
       (package-refresh-contents)
       (package-install (cadr (assq 'stele-test-foo package-archive-contents)))
       (package-delete (cadr (assq 'stele-test-foo package-alist)) t)
       (stele-test-delivered)
       (let ((events (cl-loop for seq from first to (stele--device-seq device)
                              for e = (stele-test-event (format "%s/%d" (stele--device-id device) seq))
                              when (string-prefix-p "package." (stele-json-get e 'action))
                              collect (list (stele-json-get e 'action) (stele-json-get e 'target 'id)
                                            (stele-json-get e 'details 'version)
                                            (stele-json-get e 'details 'archive)
                                            (stele-json-get e 'details 'dependency)))))
         (should (equal events
                        '(("package.install" "stele-test-bar" "1.0" "stele-test" t)
                          ("package.install" "stele-test-foo" "1.0" "stele-test" :false)
                          ("package.upgrade" "stele-test-foo" "1.1" "stele-test" :false)
                          ("package.delete" "stele-test-foo" "1.1" nil nil)))))))))

(defun stele-test-wait-seq (device seq)
  "Wait until DEVICE has spooled event SEQ."
  (stele-test-wait (lambda () (>= (stele--device-seq device) seq)) 20 (format "event %d" seq)))

(ert-deftest stele-e2e-commits ()
  "Commits through VC, from a shell (no hook at all), and through Magit."
  (stele-test-with-stele
   (let* ((repo (stele-test-git-repo))
          (file (expand-file-name "README" repo))
          (device (car stele--devices))
          (vc-handled-backends '(Git))
          (process-environment (append '("GIT_AUTHOR_NAME=Ada" "GIT_AUTHOR_EMAIL=ada@example.com"
                                         "GIT_COMMITTER_NAME=Ada" "GIT_COMMITTER_EMAIL=ada@example.com")
                                       process-environment)))
     ;; VC: visit, edit, save, check in.
     (stele-test-save file "more\n")
     (let ((seq (stele--device-seq device)))
       (with-current-buffer (find-file-noselect file)
         (vc-checkin (list file) 'Git "Explain the README\n\nA longer body.")
         (kill-buffer))
       (stele-test-wait-seq device (1+ seq))
       (let ((event (progn (stele-test-delivered) (stele-test-event (stele-test-last-id)))))
         (should (equal (stele-json-get event 'action) "vc.commit"))
         (should (equal (stele-json-get event 'reason) "Explain the README"))
         (should (equal (stele-json-get event 'details 'hash) (stele-test-git repo "rev-parse" "HEAD")))
         (should (equal (stele-json-get event 'details 'branch) "main"))
         (should (equal (stele-json-get event 'details 'files) 1))
         (should (equal (stele-json-get event 'details 'via) "vc"))
         (should (equal (stele-json-get event 'target 'id) (directory-file-name repo)))))
     ;; A shell commit: no Emacs hook runs; the reflog timer finds it.
     (let ((seq (stele--device-seq device)))
       (with-temp-file (expand-file-name "a.txt" repo) (insert "a\n"))
       (with-temp-file (expand-file-name "b.txt" repo) (insert "b\n"))
       (stele-test-git repo "add" "a.txt" "b.txt")
       (stele-test-git repo "commit" "-q" "-m" "Two files from a shell")
       (stele-test-wait-seq device (1+ seq))
       (let ((event (progn (stele-test-delivered) (stele-test-event (stele-test-last-id)))))
         (should (equal (stele-json-get event 'reason) "Two files from a shell"))
         (should (equal (stele-json-get event 'details 'files) 2))
         (should (equal (stele-json-get event 'details 'via) "reflog"))))
     ;; Magit, when installed: a commit in a repository Stele has not seen.
     (unless (require 'magit nil t)
       (message "stele-e2e-commits: Magit is not installed: its path is not tested"))
     (when (featurep 'magit)
       (let* ((other (stele-test-git-repo))
              (default-directory other)
              (seq (stele--device-seq device))
              (stele-commit-poll-interval 3600))
         (with-temp-file (expand-file-name "c.txt" other) (insert "c\n"))
         (magit-call-git "add" "c.txt")
         (magit-call-git "commit" "-m" "Made in Magit")
         (stele-test-wait-seq device (1+ seq))
         (let ((event (stele-test-event (progn (stele-test-delivered) (stele-test-last-id)))))
           (should (equal (stele-json-get event 'reason) "Made in Magit"))
           (should (equal (stele-json-get event 'details 'via) "magit"))
           (should (equal (stele-json-get event 'details 'hash) (stele-test-git other "rev-parse" "HEAD")))))))))

(defun stele-test-device-events (device-id)
  "Every stored event of DEVICE-ID, as (SEQ . ID), sorted by seq."
  (let ((cursor nil) (events nil))
    (while (let ((answer (stele-test-api (concat "/v1/events?source=emacs&limit=1000"
                                                 (if cursor (concat "&cursor=" cursor) "")))))
             (cl-loop for e across (stele-json-get answer 'events)
                      when (equal (stele-json-get e 'device 'id) device-id)
                      do (push (cons (stele-json-get e 'device 'seq) (stele-json-get e 'id)) events))
             (setq cursor (let ((next (stele-json-get answer 'next))) (and (stringp next) next)))))
    (sort events (lambda (a b) (< (car a) (car b))))))

(defun stele-test-device-row (device-id)
  "The collector's row for DEVICE-ID in GET /v1/devices."
  (cl-find device-id (stele-json-get (stele-test-api "/v1/devices") 'devices)
           :key (lambda (d) (stele-json-get d 'id)) :test #'equal))

(ert-deftest stele-e2e-collector-down ()
  "Stop the collector, record, restart: each event arrives exactly once, no gap."
  (stele-test-with-stele
   (let ((device (car stele--devices)))
     (stele-test-delivered)
     (stele-test-stop-collector)
     (dotimes (i 5) (stele-annotate (format "while the collector is down %d" i)))
     (stele-test-wait (lambda () (>= stele--failures 2)) 20 "failed attempts")
     (should (= (stele--spool-count) 5))
     (stele-test-collector)             ; the same directory and port
     (stele-test-delivered)
     (let ((seqs (mapcar #'car (stele-test-device-events (stele--device-id device)))))
       (should (equal seqs (number-sequence 1 (stele--device-seq device)))))
     (let ((row (stele-test-device-row (stele--device-id device))))
       (should (equal (stele-json-get row 'gaps) 0))
       (should (equal (stele-json-get row 'late) 0))))))

(defun stele-test-child-emacs (dir &rest forms)
  "Start a batch Emacs with Stele on the installation DIR running FORMS."
  (make-process
   :name "stele-child" :buffer (generate-new-buffer " *stele-child*") :noquery t
   :command `(,(expand-file-name invocation-name invocation-directory) "-Q" "--batch"
              "-L" ,(expand-file-name "emacs" stele-test-root)
              "--eval" "(setq load-prefer-newer t)" "-l" "stele"
              "--eval" ,(prin1-to-string
                         `(setq stele-server ,(stele-test-collector) stele-directory ,dir
                                stele-api-token-file ,(stele-test-token-file)
                                stele-credentials-file ,(expand-file-name "credentials.json" dir)
                                stele-delivery-delay 0 stele-batch-size 5 stele-exit-flush-timeout 20))
              ,@(cl-loop for f in forms append (list "--eval" (prin1-to-string f))))))

(ert-deftest stele-e2e-killed-mid-delivery ()
  "An Emacs killed with SIGKILL while delivering loses nothing; the next delivers the rest."
  (let* ((dir (stele-test-temp-dir "killed"))
         (child (stele-test-child-emacs
                 dir '(stele-mode 1)
                 '(dotimes (i 300) (stele-annotate (format "note %d" i)))
                 '(progn (stele--deliver) (while t (accept-process-output nil 0.01)))))
         device-id)
    ;; Kill it once the collector has some of its events but not all.
    (stele-test-wait (lambda ()
                       (setq device-id (ignore-errors (string-trim (with-temp-buffer (insert-file-contents (expand-file-name "device-id" dir)) (buffer-string)))))
                       (unless (process-live-p child)
                         (ert-fail (format "the child exited: %s"
                                           (with-current-buffer (process-buffer child) (buffer-string)))))
                       (and device-id (> (length (stele-test-device-events device-id)) 10)))
                     60 "the child to deliver some events")
    (signal-process child 'KILL)
    (stele-test-wait (lambda () (not (process-live-p child))) 10 "the child to die")
    (let ((delivered (length (stele-test-device-events device-id))))
      (message "killed mid-delivery with %d of 302 events delivered" delivered)
      (should (< delivered 302))
      ;; The next Emacs on that installation adopts the device and delivers the rest.
      (let ((next (stele-test-child-emacs dir '(stele-mode 1) '(kill-emacs (if (stele-flush 60) 0 3)))))
        (stele-test-wait (lambda () (not (process-live-p next))) 90 "the next Emacs to flush")
        (should (eql (process-exit-status next) 0))))
    ;; 1 start, 1 enable, 300 notes in the killed Emacs; then more from the next, on the same device.
    (let* ((events (stele-test-device-events device-id))
           (seqs (mapcar #'car events)))
      (should (equal seqs (number-sequence 1 (car (last seqs)))))
      (should (>= (length seqs) 302))
      ;; The next Emacs exited normally: its exit is the device's last event.
      (should (equal (stele-json-get (stele-test-event (cdr (car (last events)))) 'action) "emacs.exit")))
    (let ((row (stele-test-device-row device-id)))
      (should (equal (stele-json-get row 'gaps) 0))
      (should (equal (stele-json-get row 'late) 0)))))

;; An ingest token delivers but may not read the log: verifying says it checked nothing, and finds nothing wrong.
(ert-deftest stele-e2e-verify-receipts-ingest-token ()
  "With a credential that may not read the log, nothing is checked and nothing is called tampered."
  (stele-test-with-stele
    (stele-annotate "receipt with an ingest token")
    (stele-test-delivered)
    (let* ((admin (string-trim (with-temp-buffer (insert-file-contents (stele-test-token-file)) (buffer-string))))
           (created nil)
           (file (expand-file-name "ingest.token" stele-directory)))
      (stele--request (concat (stele-test-collector) "/v1/admin/tokens") :method "POST" :token admin
                      :content-type "application/json" :body "{\"name\":\"emacs-ingest-only\",\"scope\":\"ingest\"}"
                      :callback (lambda (status answer) (setq created (list status answer))))
      (stele-test-wait (lambda () created) 20 "a new ingest token")
      (should (eql (car created) 201))
      (with-temp-file file (insert (stele-json-get (cadr created) 'token)))
      (let ((stele-api-token-file file)
            (result nil))
        (stele-verify-receipts-async (lambda (r) (setq result r)))
        (stele-test-wait (lambda () result) 30 "verification")
        (should (equal (plist-get result :problems) nil))
        (should (eql (plist-get result :checked) 0))
        (should (string-match-p "403" (plist-get result :unchecked)))))))

(ert-deftest stele-e2e-verify-receipts ()
  "Inclusion of every delivered event and consistency of checkpoints; tampering is caught."
  (stele-test-with-stele
   (dotimes (i 3) (stele-annotate (format "receipt %d" i)))
   (stele-test-delivered)
   (let (result)
     (stele-verify-receipts-async (lambda (r) (setq result r)))
     (stele-test-wait (lambda () result) 30 "verification")
     (should (equal (plist-get result :problems) nil))
     (should (>= (plist-get result :checked) 5))
     (should (plist-get (stele--state) :checkpoint-verified)))
   ;; A receipt whose hash is not what the log holds.
   (let* ((file (expand-file-name "receipts" (stele--device-dir (car stele--devices))))
          (text (with-temp-buffer (insert-file-contents file) (buffer-string))))
     (with-temp-file file
       (insert (replace-regexp-in-string " [0-9a-f]\\{64\\}\n\\'" (concat " " (make-string 64 ?0) "\n") text)))
     (let (result)
       (stele-verify-receipts-async (lambda (r) (setq result r)))
       (stele-test-wait (lambda () result) 30 "verification")
       (should (cl-some (lambda (p) (string-match-p "not the event sent" p)) (plist-get result :problems))))
     (with-temp-file file (insert text)))
   ;; A checkpoint seen earlier that the log is not consistent with: a fork.
   (let* ((seen (plist-get (stele--state) :checkpoint-verified))
          (lines (split-string seen "\n")))
     (setf (nth 2 lines) (base64-encode-string (make-string 32 ?x)))
     (stele--state-put :checkpoint-verified (mapconcat #'identity lines "\n"))
     (let (result)
       (stele-verify-receipts-async (lambda (r) (setq result r)))
       (stele-test-wait (lambda () result) 30 "verification")
       (should (plist-get result :problems))))))

(provide 'stele-e2e-test)
;;; stele-e2e-test.el ends here
