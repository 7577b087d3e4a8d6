;;; stele-unit-test.el --- Pure tests: canonical JSON, HMAC, Merkle, TRAMP  -*- lexical-binding: t; -*-

;;; Commentary:

;; Canonical JSON against the project's own canonicalizer in Node, HMAC
;; against RFC 4231, the RFC 6962 proof vectors in ../shared/vectors (or
;; $STELE_VECTORS), and TRAMP file names classified without connecting.

;;; Code:

(require 'ert)
(require 'stele)
(require 'stele-tramp)
(require 'stele-test-helpers)

(defconst stele-test-dir (file-name-directory (or load-file-name buffer-file-name))
  "This directory.")

(ert-deftest stele-canonical-json-matches-node ()
  "Every input canonicalizes as @stele/log's canonicalize does."
  (unless (file-exists-p (expand-file-name "packages/log/dist/index.js" stele-test-root))
    (ert-skip "packages/log is not built (npx tsc --build)"))
  (let* ((inputs (expand-file-name "vectors/canonical-inputs.jsonl" stele-test-dir))
         (expected (with-temp-buffer
                     (unless (zerop (call-process "node" nil t nil
                                                  (expand-file-name "canonical-vector.mjs" stele-test-dir)
                                                  inputs))
                       (ert-fail (buffer-string)))
                     (mapcar #'json-read-from-string (split-string (decode-coding-string (buffer-string) 'utf-8) "\n" t))))
         (lines (with-temp-buffer
                  (insert-file-contents inputs)
                  (split-string (buffer-string) "\n" t))))
    (should (= (length lines) (length expected)))
    (cl-loop for line in lines for want in expected
             do (should (equal (stele-json-encode (stele-json-parse line)) want)))))

(ert-deftest stele-canonical-json-escapes-and-sorts ()
  "Only quote, backslash and C0 are escaped; keys sort by UTF-16 units."
  (should (equal (stele-json-encode '((b . 1) (a . "x\"\\\n\1\177é"))) "{\"a\":\"x\\\"\\\\\\n\\u0001\177é\",\"b\":1}"))
  (should (equal (stele-json-encode '(("\U0001F600" . 1) ("\uFB33" . 2))) "{\"\U0001F600\":1,\"\uFB33\":2}"))
  (should (equal (stele-json-encode [t :false :null nil []]) "[true,false,null,{},[]]"))
  (should (equal (stele-json-ascii "é\U0001F600") "\\u00e9\\ud83d\\ude00")))

(ert-deftest stele-hmac-rfc4231 ()
  "HMAC-SHA256 gives the RFC 4231 test case 2 and 6 results."
  (should (equal (stele-hmac-sha256 "Jefe" "what do ya want for nothing?")
                 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
  (should (equal (stele-hmac-sha256 (apply #'unibyte-string (make-list 131 #xaa))
                                    "Test Using Larger Than Block-Size Key - Hash Key First")
                 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")))

(defun stele-test-vectors (kind)
  "The proof vector files of KIND (inclusion or consistency)."
  (let ((dir (expand-file-name (concat "merkle/" kind)
                               (or (getenv "STELE_VECTORS")
                                   (expand-file-name "../shared/vectors" stele-test-root)))))
    (unless (file-directory-p dir) (ert-skip (format "no vectors at %s" dir)))
    (directory-files-recursively dir "\\.json\\'")))

(defun stele-test-read-vector (file)
  "The vector in FILE, hashes decoded."
  (let ((v (let ((json-object-type 'alist) (json-array-type 'vector) (json-key-type 'symbol)
                 (json-null :null) (json-false :false))
             ;; json.el, for its bignums: some vectors have indexes of 2^64 - 1.
             (json-read-file file))))
    (cons (lambda (k) (let ((x (stele-json-get v k)))
                        (cond ((eq x :null) nil)
                              ((vectorp x) (mapcar #'base64-decode-string x))
                              ((and (stringp x) (memq k '(root root1 root2 leafHash))) (base64-decode-string x))
                              (t x))))
          v)))

(ert-deftest stele-merkle-inclusion-vectors ()
  "Every inclusion vector verifies, or fails, as it says."
  (let ((files (stele-test-vectors "inclusion")))
    (should (> (length files) 10))
    (dolist (file files)
      (let* ((get (car (stele-test-read-vector file)))
             (ok (condition-case nil
                     (progn (stele-merkle-verify-inclusion (funcall get 'leafIdx) (funcall get 'treeSize)
                                                           (funcall get 'leafHash) (funcall get 'proof)
                                                           (funcall get 'root))
                            t)
                   (stele-merkle-error nil))))
        (should (equal (list file ok) (list file (not (eq (funcall get 'wantErr) t)))))))))

(ert-deftest stele-merkle-consistency-vectors ()
  "Every consistency vector verifies, or fails, as it says."
  (let ((files (stele-test-vectors "consistency")))
    (should (> (length files) 10))
    (dolist (file files)
      (let* ((get (car (stele-test-read-vector file)))
             (ok (condition-case nil
                     (progn (stele-merkle-verify-consistency (funcall get 'size1) (funcall get 'size2)
                                                             (funcall get 'proof)
                                                             (funcall get 'root1) (funcall get 'root2))
                            t)
                   (stele-merkle-error nil))))
        (should (equal (list file ok) (list file (not (eq (funcall get 'wantErr) t)))))))))

(ert-deftest stele-tramp-sudo-and-multi-hop ()
  "TRAMP names are classified without connecting; sudo, doas and root are privileged."
  (let ((sudo (stele-tramp-classify "/sudo::/etc/hosts")))
    (should (equal (alist-get 'method sudo) "sudo"))
    (should (equal (alist-get 'user sudo) "root"))
    (should (eq (alist-get 'privileged sudo) t)))
  (let ((multi (stele-tramp-classify "/ssh:alice@web#2222|sudo:root@web:/etc/nginx/nginx.conf")))
    (should (equal (alist-get 'method multi) "sudo"))
    (should (equal (alist-get 'host multi) "web"))
    (should (equal (alist-get 'hops multi)
                   [((method . "ssh") (user . "alice") (host . "web") (port . "2222"))
                    ((method . "sudo") (user . "root") (host . "web"))]))
    (should (eq (alist-get 'privileged multi) t)))
  (should (eq (alist-get 'privileged (stele-tramp-classify "/ssh:web|doas:web:/etc/x")) t))
  (should (eq (alist-get 'privileged (stele-tramp-classify "/ssh:root@db:/etc/x")) t))
  (let ((plain (stele-tramp-classify "/ssh:bob@build:/home/bob/notes.org")))
    (should (equal (alist-get 'user plain) "bob"))
    (should (eq (alist-get 'privileged plain) :false)))
  (should-not (stele-tramp-classify "/etc/hosts")))

(ert-deftest stele-sent-form-undoes-binding ()
  "The sent form of a stored record removes the store's fields and restores the claim."
  (let ((record '((v . 1) (index . 4) (received . "r") (submitter . ((type . "oidc")))
                  (actor . ((id . "alice") (verified . t)))
                  (details . ((claimedActor . ((id . "root") (verified . :false))) (groupsOverage . t))))))
    (should (equal (stele-json-encode (stele--sent-form record))
                   "{\"actor\":{\"id\":\"root\",\"verified\":false}}"))))

(ert-deftest stele-count-agrees-with-its-number ()
  (should (equal (stele--count 1 "event") "1 event"))
  (should (equal (stele--count 0 "event") "0 events"))
  (should (equal (stele--count 2 "entry" "entries") "2 entries")))

(provide 'stele-unit-test)
;;; stele-unit-test.el ends here
