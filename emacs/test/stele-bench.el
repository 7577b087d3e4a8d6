;;; stele-bench.el --- What capturing costs on the command loop  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make bench': times, with `benchmark-run' (`benchmark-call'), what a command pays when
;; Stele records: the save of a 20 KB file in a Git repository (read
;; back, hashed, branch and revision read, event built, canonicalized,
;; chained and spooled), a configuration change, and a bare event.  No
;; delivery happens meanwhile (timers do not run inside the loop).
;; Two parts are also timed alone: canonicalizing and hashing a typical
;; event (CPU only), and writing it to the spool (file creation and
;; rename: the filesystem's share).
;; Prints one JSON object; the figures are milliseconds per capture,
;; garbage collection included: the fastest of 5 rounds and their median.

;;; Code:

(require 'stele)
(require 'json)
(require 'cl-lib)

(defun stele-bench--ms (n thunk)
  "Milliseconds per call of THUNK over 5 rounds of N/5 calls, GC included.
Returns the fastest and the median round, and the median round's
share of garbage collection: file creation on a shared machine
varies a lot, and the fastest is the cost without interference."
  (funcall thunk)                       ; warm up
  (let* ((per (/ n 5))
         (rounds (sort (cl-loop repeat 5
                                collect (let ((r (benchmark-call thunk per)))
                                          (cons (/ (* 1000.0 (car r)) per) (/ (* 1000.0 (nth 2 r)) per))))
                       (lambda (a b) (< (car a) (car b))))))
    `((min . ,(car (car rounds))) (median . ,(car (nth 2 rounds))) (gcOfMedian . ,(cdr (nth 2 rounds))))))

(defun stele-bench-run ()
  "Run the benchmarks and print their JSON."
  (let* ((home (make-temp-file "stele-bench-" t))
         (stele-directory (expand-file-name "stele/" home))
         (stele-server nil)
         (repo (expand-file-name "repo/" home))
         (file (expand-file-name "src/module.el" repo))
         (n 2000))
    (make-directory (file-name-directory file) t)
    (let ((default-directory repo))
      (call-process "git" nil nil nil "init" "-q" "-b" "main"))
    (with-temp-file file
      (dotimes (i 400) (insert (format "(defun bench-%d () \"Line %d of a 20 KB file.\" %d)\n" i i i))))
    (unwind-protect
        (progn
          (stele-mode 1)
          (with-current-buffer (find-file-noselect file)
            (let* ((event (stele-json-parse
                           (concat "{\"id\":\"emacs-0123456789abcdef/42\",\"time\":\"2025-06-02T12:03:11.482Z\","
                                   "\"source\":\"emacs\",\"action\":\"file.save\",\"actor\":{\"id\":\"ada\",\"verified\":false},"
                                   "\"target\":{\"type\":\"file\",\"id\":\"/home/ada/src/stele/packages/log/src/event.ts\"},"
                                   "\"outcome\":\"success\",\"host\":\"ada-laptop\",\"device\":{\"id\":\"emacs-0123456789abcdef\","
                                   "\"seq\":42,\"prev\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},"
                                   "\"details\":{\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
                                   "\"bytes\":14213,\"mode\":\"typescript-ts-mode\",\"vc\":{\"backend\":\"Git\",\"branch\":\"main\"}}}")))
                   (bytes (stele-json-bytes event))
                   (build (stele-bench--ms n (lambda () (stele--sha256-hex (stele-json-bytes event)))))
                   (spool (stele-bench--ms n (lambda () (stele--spool-write (car stele--devices) bytes))))
                   (save (stele-bench--ms n #'stele--after-save))
                   (record (stele-bench--ms n (lambda () (stele-record "note.add" :reason "bench"))))
                   (config (stele-bench--ms n (lambda () (stele--record-config 'fill-column (random 100) "bench" "set"))))
                   (json (json-encode `((saveMs . ,save) (recordMs . ,record) (configChangeMs . ,config)
                                        (canonicalizeAndHashMs . ,build) (spoolWriteMs . ,spool)
                                        (bytes . ,(buffer-size)) (calls . ,n)
                                        (emacs . ,emacs-version)))))
              (princ (concat json "\n"))
              (kill-buffer))))
      (stele-mode -1)
      (stele--release-devices)
      (delete-directory home t))))

(provide 'stele-bench)
;;; stele-bench.el ends here
