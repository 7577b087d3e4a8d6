;;; stele-git.el --- Git repositories: branch, revision, and every commit  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Branch and revision come from reading .git/HEAD and the refs, never
;; from a git process, so a file save stays cheap.
;;
;; Commits are found in the repository's HEAD reflog (.git/logs/HEAD),
;; whoever made them: VC, Magit (whether or not its hooks ran), a shell.
;; Stele remembers how far it read each known repository's reflog
;; (repos.eld), so a commit made while Emacs was busy, or just before it
;; was killed, is found on the next look.  A look is triggered by
;; `vc-checkin-hook', by the Magit integration, and by a timer.  The
;; number of files comes from an asynchronous git process; the offset
;; moves on only once the events are spooled.

;;; Code:

(require 'cl-lib)
(require 'stele-core)
(require 'stele-event)

(defcustom stele-commit-poll-interval 10
  "Seconds between looks at the reflogs of known Git repositories."
  :type 'number
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defcustom stele-git-program "git"
  "The git executable, used to count the files of a commit."
  :type 'string
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defvar stele-git--roots (make-hash-table :test #'equal)
  "Directory -> its Git work tree root, or `none'.")

(defvar stele-git--repos nil
  "Known repositories: alist of root -> reflog offset (bytes read).")

(defvar stele-git--busy nil
  "Roots whose reflog is being read: alist of root -> pending via.")

(defun stele-git-root (dir)
  "The root of the Git work tree holding DIR, or nil.  Cached."
  (let ((hit (gethash dir stele-git--roots)))
    (if hit
        (unless (eq hit 'none) hit)
      (let ((root (locate-dominating-file dir ".git")))
        (puthash dir (if root (expand-file-name root) 'none) stele-git--roots)
        (and root (expand-file-name root))))))

(defun stele-git--dir (root)
  "The git directory of the work tree ROOT (worktrees have a .git file)."
  (let ((dotgit (expand-file-name ".git" root)))
    (if (file-directory-p dotgit)
        (file-name-as-directory dotgit)
      (let ((text (stele--read-file dotgit)))
        (when (and text (string-match "^gitdir: \\(.*\\)$" text))
          (file-name-as-directory (expand-file-name (match-string 1 text) root)))))))

(defun stele-git--ref (gitdir ref)
  "The commit REF names in GITDIR, from its loose file or packed-refs."
  (let* ((common (let ((text (stele--read-file (expand-file-name "commondir" gitdir))))
                   (if text (file-name-as-directory (expand-file-name (string-trim text) gitdir)) gitdir)))
         (loose (or (stele--read-file (expand-file-name ref gitdir))
                    (stele--read-file (expand-file-name ref common)))))
    (if loose
        (string-trim loose)
      (let ((packed (stele--read-file (expand-file-name "packed-refs" common))))
        (when (and packed (string-match (concat "^\\([0-9a-f]+\\) " (regexp-quote ref) "$") packed))
          (match-string 1 packed))))))

(defun stele-git-head (root)
  "The (BRANCH . REVISION) of the work tree ROOT; BRANCH is nil when detached."
  (let* ((gitdir (stele-git--dir root))
         (head (and gitdir (stele--read-file (expand-file-name "HEAD" gitdir)))))
    (when head
      (setq head (string-trim head))
      (if (string-match "\\`ref: \\(refs/heads/\\(.*\\)\\)\\'" head)
          (cons (match-string 2 head) (stele-git--ref gitdir (match-string 1 head)))
        (cons nil head)))))

(defun stele-git--reflog (root)
  "The HEAD reflog file of ROOT."
  (let ((gitdir (stele-git--dir root)))
    (and gitdir (expand-file-name "logs/HEAD" gitdir))))

(defun stele-git--size (file)
  "The size of FILE in bytes, or 0."
  (or (file-attribute-size (file-attributes file)) 0))

(defun stele-git--save-repos ()
  "Keep the reflog offsets across sessions."
  (stele--write-private (stele--dir "repos.eld")
                        (encode-coding-string (prin1-to-string stele-git--repos) 'utf-8)))

(defun stele-git--load-repos ()
  "Read the reflog offsets of earlier sessions."
  (let ((text (stele--read-file (stele--dir "repos.eld"))))
    (setq stele-git--repos
          (and text (ignore-errors (car (read-from-string (decode-coding-string text 'utf-8))))))))

(defun stele-git-watch (root &optional last)
  "Follow the commits of the Git work tree ROOT from now on.
With LAST, from its newest reflog entry on: a commit that was just
made in a repository Stele did not know yet."
  (when (and root (not (assoc root stele-git--repos)))
    (let* ((reflog (stele-git--reflog root))
           (size (and reflog (stele-git--size reflog))))
      (when size
        (push (cons root (if (and last (> size 0)) (stele-git--last-line-start reflog size) size))
              stele-git--repos)
        (stele-git--save-repos)))))

(defun stele-git--last-line-start (file size)
  "The offset of the start of the last line of FILE (SIZE bytes)."
  (let* ((from (max 0 (- size 4096)))
         (text (with-temp-buffer
                 (set-buffer-multibyte nil)
                 (insert-file-contents-literally file nil from size)
                 (buffer-string)))
         (newline (cl-position ?\n text :from-end t :end (max 0 (1- (length text))))))
    (if newline (+ from newline 1) from)))

(defun stele-git--commits (text)
  "The commits in the reflog TEXT: list of (HASH KIND SUMMARY)."
  (let (commits)
    (dolist (line (split-string text "\n" t))
      ;; OLD NEW WHO TIME ZONE<TAB>commit (amend): summary
      (when (string-match (concat "\\`[0-9a-f]+ \\([0-9a-f]+\\) [^\t]*\t"
                                  "\\(commit\\(?: (\\([^)]*\\))\\)?\\|cherry-pick\\|revert\\): ?\\(.*\\)\\'")
                          line)
        (push (list (match-string 1 line)
                    (or (match-string 3 line)
                        (if (equal (match-string 2 line) "commit") "normal" (match-string 2 line)))
                    (match-string 4 line))
              commits)))
    (nreverse commits)))

(defun stele-git-scan (root &optional via)
  "Record the commits in ROOT's reflog not recorded yet.
VIA names what noticed them: \"vc\", \"magit\" or \"reflog\"."
  (let ((via (or via "reflog")))
    (stele-git-watch root (not (equal via "reflog")))
    (if (assoc root stele-git--busy)
        nil
      (let* ((entry (assoc root stele-git--repos))
             (reflog (stele-git--reflog root))
             (offset (cdr entry))
             (size (and reflog (stele-git--size reflog))))
        (cond
         ((or (null entry) (null size)) nil)
         ((< size offset)                ; the reflog was expired or rewritten
          (setcdr entry size)
          (stele-git--save-repos))
         ((> size offset)
          (let* ((text (with-temp-buffer
                         (set-buffer-multibyte nil)
                         (insert-file-contents-literally reflog nil offset size)
                         (buffer-string)))
                 (complete (let ((end (cl-position ?\n text :from-end t))) (if end (1+ end) 0)))
                 (end (+ offset complete))
                 (commits (stele-git--commits (decode-coding-string (substring text 0 complete) 'utf-8))))
            (if (null commits)
                (progn (setcdr entry end) (stele-git--save-repos))
              (push (cons root via) stele-git--busy)
              (stele-git--count-files
               root commits
               (lambda (counts)
                 (setq stele-git--busy (cl-remove root stele-git--busy :key #'car :test #'equal))
                 (stele-git--record root commits counts via)
                 (setcdr (assoc root stele-git--repos) end)
                 (stele-git--save-repos)
                 ;; More may have come in meanwhile.
                 (stele-git-scan root via)))))))))))

(defun stele-git--count-files (root commits callback)
  "Call CALLBACK with an alist hash -> number of files of COMMITS in ROOT."
  (let ((out (generate-new-buffer " *stele-git*"))
        (hashes (mapcar #'car commits))
        (default-directory root))
    (condition-case err
        (make-process
         :name "stele-git" :buffer out :noquery t :connection-type 'pipe
         :command `(,stele-git-program "--no-pager" "-c" "core.quotepath=off" "log" "--no-walk=unsorted"
                                       "--no-renames" "--format=%x1e%H" "--name-only" ,@hashes "--")
         :sentinel (lambda (proc _event)
                     (unless (process-live-p proc)
                       (let ((counts (with-current-buffer out
                                       (cl-loop for record in (split-string (buffer-string) "\36" t)
                                                for lines = (split-string record "\n" t)
                                                collect (cons (car lines) (length (cdr lines)))))))
                         (kill-buffer out)
                         (funcall callback counts)))))
      (error (kill-buffer out)
             (stele--log "git failed: %s" (error-message-string err))
             (funcall callback nil)))))

(defun stele-git--record (root commits counts via)
  "Record COMMITS of ROOT, with file COUNTS, noticed VIA."
  (let ((branch (car (stele-git-head root))))
    (pcase-dolist (`(,hash ,kind ,summary) commits)
      (stele-record "vc.commit"
                    :target `((type . "repository") (id . ,(directory-file-name root))
                              (name . ,(file-name-nondirectory (directory-file-name root))))
                    :reason summary
                    :details `((hash . ,hash) (branch . ,branch) (backend . "Git")
                               (files . ,(cdr (assoc hash counts)))
                               (kind . ,kind) (via . ,via))))))

(defun stele-git-scan-all ()
  "Look at the reflog of every known repository."
  (dolist (entry stele-git--repos)
    (stele--guard "looking for commits"
      (let ((reflog (stele-git--reflog (car entry))))
        (when (and reflog (/= (stele-git--size reflog) (cdr entry)))
          (stele-git-scan (car entry)))))))

(provide 'stele-git)
;;; stele-git.el ends here
