;;; stele-json.el --- RFC 8785 canonical JSON and HMAC for Stele  -*- lexical-binding: t; -*-

;; Copyright (C) 2025 The Stele authors

;; Author: The Stele authors
;; SPDX-License-Identifier: Apache-2.0

;; This file is not part of GNU Emacs.

;;; Commentary:

;; The JSON Canonicalization Scheme (RFC 8785) that Stele's log and device
;; chains hash, for the values this package builds and the records the
;; collector returns; JSON parsing into the same shapes; HMAC-SHA256.
;;
;; Shapes: an object is an alist with symbol (or string) keys, nil is the
;; empty object, an array is a vector, t is true, `:false' is false,
;; `:null' is null, strings and numbers are themselves.

;;; Code:

(require 'cl-lib)
(require 'json)

(defun stele-json--escape-char (match)
  "The JSON escape of the one-character string MATCH."
  (let ((c (aref match 0)))
    (pcase c
      (?\" "\\\"")
      (?\\ "\\\\")
      (?\b "\\b")
      (?\t "\\t")
      (?\n "\\n")
      (?\f "\\f")
      (?\r "\\r")
      (_ (format "\\u%04x" c)))))

(defun stele-json--insert-string (s)
  "Insert S as an RFC 8785 JSON string: only quote, backslash and C0 escaped."
  (insert "\"")
  (insert (if (string-match-p "[\"\\\0-\37]" s)
              (replace-regexp-in-string "[\"\\\0-\37]" #'stele-json--escape-char s t t)
            s))
  (insert "\""))

(defun stele-json--float (f)
  "The ECMAScript spelling of the float F (RFC 8785 section 3.2.2.3)."
  (when (or (isnan f) (= f 1.0e+INF) (= f -1.0e+INF))
    (error "JSON has no NaN or infinity"))
  (if (= f 0.0)
      "0"
    ;; Emacs prints the shortest digits that read back, as ECMAScript does;
    ;; only the placement of the decimal point and the exponent differ.
    (let* ((text (format "%S" (abs f)))
           (sign (if (< f 0) "-" ""))
           (mantissa text) (exp 0) digits point)
      (when (string-match "\\`\\([^e]+\\)e\\([-+]?[0-9]+\\)\\'" text)
        (setq mantissa (match-string 1 text)
              exp (string-to-number (match-string 2 text))))
      (setq point (or (cl-position ?. mantissa) (length mantissa))
            digits (replace-regexp-in-string "\\." "" mantissa))
      ;; value = 0.DIGITS * 10^n
      (let ((n (+ point exp)))
        (while (and (> (length digits) 1) (eq (aref digits 0) ?0))
          (setq digits (substring digits 1) n (1- n)))
        (setq digits (replace-regexp-in-string "0+\\'" "" digits))
        (let ((k (length digits)))
          (concat
           sign
           (cond
            ((and (<= k n) (<= n 21)) (concat digits (make-string (- n k) ?0)))
            ((and (< 0 n) (<= n 21)) (concat (substring digits 0 n) "." (substring digits n)))
            ((and (< -6 n) (<= n 0)) (concat "0." (make-string (- n) ?0) digits))
            (t (let ((e (1- n)))
                 (concat (substring digits 0 1)
                         (if (> k 1) (concat "." (substring digits 1)) "")
                         "e" (if (> e 0) "+" "-") (number-to-string (abs e))))))))))))

(defun stele-json--utf16 (s)
  "S with each character above U+FFFF split into its UTF-16 surrogates."
  (apply #'string
         (cl-loop for c across s
                  if (> c #xffff)
                  append (let ((v (- c #x10000)))
                           (list (+ #xd800 (ash v -10)) (+ #xdc00 (logand v #x3ff))))
                  else collect c)))

(defun stele-json--key< (a b)
  "Non-nil when the key A comes before B in UTF-16 code unit order."
  (if (or (string-match-p "[\U00010000-\U0010FFFF]" a)
          (string-match-p "[\U00010000-\U0010FFFF]" b))
      (string< (stele-json--utf16 a) (stele-json--utf16 b))
    (string< a b)))

(defun stele-json--key (key)
  "The JSON name of the alist KEY."
  (if (symbolp key) (symbol-name key) key))

(defun stele-json--insert (value)
  "Insert VALUE as canonical JSON at point."
  (cond
   ((stringp value) (stele-json--insert-string value))
   ((eq value t) (insert "true"))
   ((eq value :false) (insert "false"))
   ((eq value :null) (insert "null"))
   ((integerp value) (insert (number-to-string value)))
   ((floatp value) (insert (stele-json--float value)))
   ((vectorp value)
    (insert "[")
    (let ((first t))
      (mapc (lambda (v) (if first (setq first nil) (insert ",")) (stele-json--insert v)) value))
    (insert "]"))
   ((listp value)
    (insert "{")
    (let ((first t))
      (dolist (cell (sort (copy-sequence value)
                          (lambda (x y) (stele-json--key< (stele-json--key (car x)) (stele-json--key (car y))))))
        (if first (setq first nil) (insert ","))
        (stele-json--insert-string (stele-json--key (car cell)))
        (insert ":")
        (stele-json--insert (cdr cell))))
    (insert "}"))
   (t (error "Not a JSON value: %S" value))))

(defvar stele-json--buffer nil
  "A buffer reused to write JSON: less garbage than concatenating strings.")

(defmacro stele-json--with-output (value &rest body)
  "Run BODY in a buffer holding the canonical JSON of VALUE."
  (declare (indent 1) (debug t))
  `(progn
     (unless (buffer-live-p stele-json--buffer)
       (setq stele-json--buffer (generate-new-buffer " *stele-json*"))
       (with-current-buffer stele-json--buffer (buffer-disable-undo)))
     (with-current-buffer stele-json--buffer
       (erase-buffer)
       (stele-json--insert ,value)
       ,@body)))

(defun stele-json-encode (value)
  "VALUE as RFC 8785 canonical JSON text (a multibyte string)."
  (stele-json--with-output value (buffer-string)))

(defun stele-json-bytes (value)
  "VALUE as the UTF-8 bytes of its canonical JSON (a unibyte string)."
  (stele-json--with-output value
    (encode-coding-string (buffer-string) 'utf-8 t)))

(defun stele-json-ascii (text)
  "TEXT (JSON) with every non-ASCII character written as a \\u escape.
The collector parses it to the same value, and an all-ASCII request
body never trips `url-http' over multibyte text."
  (if (string-match-p "[^\0-\177]" text)
      (replace-regexp-in-string
       "[^\0-\177]"
       (lambda (m)
         (mapconcat (lambda (u) (format "\\u%04x" u)) (stele-json--utf16 m) ""))
       text t t)
    text))

(defun stele-json-parse (text)
  "Parse the JSON TEXT (a string) into this file's shapes."
  (if (and (fboundp 'json-parse-string) (json-available-p))
      (json-parse-string text :object-type 'alist :array-type 'array
                         :null-object :null :false-object :false)
    (let ((json-object-type 'alist) (json-array-type 'vector)
          (json-key-type 'symbol) (json-null :null) (json-false :false))
      (json-read-from-string text))))

(defun stele-json-get (object &rest keys)
  "The value at KEYS (symbols) in the nested alist OBJECT, or nil."
  (while (and keys (listp object))
    (setq object (cdr (assq (pop keys) object))))
  (if keys nil object))

(defun stele-hmac-sha256 (key message)
  "The hex HMAC-SHA256 (RFC 2104) of the unibyte MESSAGE under the unibyte KEY."
  (let* ((key (if (> (length key) 64) (secure-hash 'sha256 key nil nil t) key))
         (key (concat key (make-string (- 64 (length key)) 0)))
         (pad (lambda (x) (apply #'unibyte-string (mapcar (lambda (b) (logxor b x)) key)))))
    (secure-hash 'sha256
                 (concat (funcall pad #x5c)
                         (secure-hash 'sha256 (concat (funcall pad #x36) message) nil nil t)))))

(provide 'stele-json)
;;; stele-json.el ends here
