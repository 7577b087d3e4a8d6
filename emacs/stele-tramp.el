;;; stele-tramp.el --- Who a remote save was made as, through TRAMP  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; Loaded only when a remote file is saved (TRAMP is loaded by then).
;; `stele-tramp-classify' reads a TRAMP file name, without connecting: the
;; method, user and host of the last hop, every hop of a multi-hop name,
;; and whether the save was privileged (sudo, su, doas or as root
;; anywhere in the chain).

;;; Code:

(require 'cl-lib)
(require 'tramp)
(require 'stele-core)

(defcustom stele-tramp-privileged-methods '("sudo" "su" "doas" "sudoedit" "ksu" "run0")
  "TRAMP methods that act as another user: saves through them are privileged."
  :type '(repeat string)
  :group 'stele
  :package-version '(stele . "0.1.0"))

(defun stele-tramp--hop (vec)
  "The hop of the dissected TRAMP name VEC as an alist."
  (let ((method (tramp-file-name-method vec))
        (user (tramp-file-name-user vec))
        (host (tramp-file-name-host vec))
        (port (tramp-file-name-port vec)))
    `((method . ,(substring-no-properties method))
      ,@(and user `((user . ,(substring-no-properties user))))
      ,@(and host (not (equal host "")) `((host . ,(substring-no-properties host))))
      ,@(and port `((port . ,(substring-no-properties port)))))))

(defun stele-tramp--privileged-hop-p (hop)
  "Non-nil when HOP is a change of user, or is as root."
  (or (member (alist-get 'method hop) stele-tramp-privileged-methods)
      (equal (alist-get 'user hop) "root")))

(defun stele-tramp-classify (file)
  "Describe the remote FILE: method, user, host, hops and privilege.
Returns an alist, or nil when FILE is not a TRAMP file name.  Nothing
is connected to: the defaults TRAMP fills in (the root user of sudo)
come from its configuration."
  (when (tramp-tramp-file-p file)
    (let* ((vec (tramp-dissect-file-name file))
           (last (stele-tramp--hop vec))
           (hops (append
                  (mapcar (lambda (hop)
                            (stele-tramp--hop
                             (tramp-dissect-file-name (concat tramp-prefix-format hop tramp-postfix-host-format))))
                          (split-string (or (tramp-file-name-hop vec) "")
                                        (regexp-quote tramp-postfix-hop-format) t))
                  (list last))))
      `(,@last
        (hops . ,(vconcat hops))
        (privileged . ,(if (cl-some #'stele-tramp--privileged-hop-p hops) t :false))))))

(provide 'stele-tramp)
;;; stele-tramp.el ends here
