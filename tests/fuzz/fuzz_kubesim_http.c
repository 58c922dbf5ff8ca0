/* Fuzz kubesim's HTTP request-head parser (request line, query string,
 * headers) and the URL decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KS_HTTP_MAX_HEAD)
        return 0;
    char *head = malloc(size + 1);
    ks_req *req = calloc(1, sizeof *req);
    if (head && req) {
        memcpy(head, data, size);
        head[size] = 0;
        long long clen;
        int chunked;
        const char *why = NULL;
        if (ks_http_parse_head(head, req, &clen, &chunked, &why) == 0)
            (void)ks_req_param(req, "watch");
        memcpy(head, data, size);
        head[size] = 0;
        ks_url_decode(head);
    }
    free(head);
    free(req);
    return 0;
}
