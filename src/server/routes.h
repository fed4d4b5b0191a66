/*
 * routes.h — the handlers of sync and ingest (sync.c), for the route table
 * (routes.c).
 */
#ifndef VIGILD_ROUTES_H
#define VIGILD_ROUTES_H

#include "http.h"
#include "vigil/attack.h"

/* The ATT&CK table ingest maps rule names with (NULL: none), set before serving. */
void routes_set_attack(const vg_attack *a);

int route_refs(http_req *r, cJSON **out);   /* POST /v1/refs: a block of case refs */
int route_push(http_req *r, cJSON **out);   /* POST /v1/ops */
int route_pull(http_req *r, cJSON **out);   /* GET /v1/ops, a long-poll with wait */
int route_ingest(http_req *r, cJSON **out); /* POST /v1/alerts */
int route_snapshot(http_req *r, cJSON **out); /* GET /v1/snapshot: where a new replica starts */
/* evidence.c: an evidence item's content, on demand (PUT, GET /v1/evidence/SHA256) */
#define EVIDENCE_PUT_MAX (64u << 20)
int route_evidence_put(http_req *r, cJSON **out);
int route_evidence_get(http_req *r, cJSON **out);

#endif
