;;; stele-test.el --- Load every ERT test of the Stele package  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make test' loads this file and runs `ert-run-tests-batch-and-exit'.

;;; Code:

(require 'stele-unit-test)
(require 'stele-e2e-test)

(provide 'stele-test)
;;; stele-test.el ends here
