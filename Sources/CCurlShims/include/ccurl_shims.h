/* Typed wrappers for libcurl's variadic functions (Swift cannot call
   curl_easy_setopt / curl_easy_getinfo directly). Private to liborderbase.so. */
#ifndef CCURL_SHIMS_H
#define CCURL_SHIMS_H
#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* Decides whether a resolved address may be connected to: returns non-zero to allow. */
typedef int (*ob_address_check)(const char *address, void *context);
/* Receives response bytes (body or one header line); returns 0 to go on. */
typedef int (*ob_sink)(const char *data, size_t len, void *context);

int ob_curl_global_init(void);
CURLcode ob_curl_set_long(CURL *h, CURLoption option, long value);
CURLcode ob_curl_set_string(CURL *h, CURLoption option, const char *value);
CURLcode ob_curl_set_slist(CURL *h, CURLoption option, struct curl_slist *value);
CURLcode ob_curl_set_post_body(CURL *h, const void *body, long len);
/* Sets CURLOPT_OPENSOCKETFUNCTION so every connection's resolved address passes `check` first. */
CURLcode ob_curl_set_address_check(CURL *h, ob_address_check check, void *context);
CURLcode ob_curl_set_sinks(CURL *h, ob_sink body, ob_sink header, void *context);
long ob_curl_response_code(CURL *h);
/* Uploads `len` bytes from `data` (an SMTP message); `data` must outlive the transfer. */
CURLcode ob_curl_set_upload(CURL *h, const void *data, size_t len);
#endif
