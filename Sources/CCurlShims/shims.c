#include "ccurl_shims.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int ob_curl_global_init(void) { return (int)curl_global_init(CURL_GLOBAL_DEFAULT); }

CURLcode ob_curl_set_long(CURL *h, CURLoption option, long value) { return curl_easy_setopt(h, option, value); }
CURLcode ob_curl_set_string(CURL *h, CURLoption option, const char *value) { return curl_easy_setopt(h, option, value); }
CURLcode ob_curl_set_slist(CURL *h, CURLoption option, struct curl_slist *value) { return curl_easy_setopt(h, option, value); }

CURLcode ob_curl_set_post_body(CURL *h, const void *body, long len) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, len);
    return rc != CURLE_OK ? rc : curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
}

struct check_context {
    ob_address_check check;
    void *context;
};

/* One per handle use; the handle is used by one thread at a time. */
static _Thread_local struct check_context current_check;

static curl_socket_t open_checked(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    struct check_context *c = clientp;
    char text[INET6_ADDRSTRLEN] = "";
    (void)purpose;
    if (address->family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&address->addr)->sin_addr, text, sizeof text);
    } else if (address->family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&address->addr)->sin6_addr, text, sizeof text);
    } else {
        return CURL_SOCKET_BAD;
    }
    if (!c->check(text, c->context)) return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
}

CURLcode ob_curl_set_address_check(CURL *h, ob_address_check check, void *context) {
    current_check.check = check;
    current_check.context = context;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    return rc != CURLE_OK ? rc : curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &current_check);
}

struct sinks {
    ob_sink body, header;
    void *context;
};
static _Thread_local struct sinks current_sinks;

static size_t on_body(char *data, size_t size, size_t n, void *p) {
    struct sinks *s = p;
    return s->body(data, size * n, s->context) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *p) {
    struct sinks *s = p;
    return s->header(data, size * n, s->context) == 0 ? size * n : 0;
}

CURLcode ob_curl_set_sinks(CURL *h, ob_sink body, ob_sink header, void *context) {
    current_sinks.body = body;
    current_sinks.header = header;
    current_sinks.context = context;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &current_sinks);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HEADERDATA, &current_sinks);
    return rc;
}

long ob_curl_response_code(CURL *h) {
    long code = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
    return code;
}

struct upload {
    const char *data;
    size_t len, at;
};
static _Thread_local struct upload current_upload;

static size_t on_read(char *buffer, size_t size, size_t n, void *p) {
    struct upload *u = p;
    size_t room = size * n, left = u->len - u->at;
    size_t take = left < room ? left : room;
    memcpy(buffer, u->data + u->at, take);
    u->at += take;
    return take;
}

CURLcode ob_curl_set_upload(CURL *h, const void *data, size_t len) {
    current_upload.data = data;
    current_upload.len = len;
    current_upload.at = 0;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_READDATA, &current_upload);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    return rc;
}
