/*
 * bundle.c — case bundles (format and contract in vigil/bundle.h).
 *
 * The ops are chosen from the log by what they concern (a case of the bundle, or an
 * alert on one), read as their authors wrote them (vg_ops_each), and written in
 * wire form, so the receiving door sees what sync would have sent. Only an
 * alert.import that also holds other cases' alerts is cut, by text, into a part of
 * itself: its elements are copied byte for byte (a raw event's 64-bit numbers stay
 * exact), never parsed and printed again.
 *
 * The crypto is libsodium's, composed the usual way: a fresh key per bundle for
 * crypto_secretstream (chunked, authenticated, its end marked, so truncation and
 * reordering are detected), that key sealed to each recipient's X25519 key
 * (crypto_box_seal), and an Ed25519 signature over the whole file. The clear header
 * is the first chunk's additional data as well as signed, so it cannot be swapped
 * onto another body.
 */
#include "vigil/bundle.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "internal.h"
#include "vigil/evidence.h"
#include "vigil/json.h"

#define CHUNK (64 << 10)
#define SEALED (crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define SIG crypto_sign_BYTES
#define HEADER_MAX (16 << 10)
#define B64 sodium_base64_VARIANT_ORIGINAL

void vg_bundle_info_free(vg_bundle_info *info)
{
    cJSON_Delete(info->manifest);
    info->manifest = NULL;
    free(info->evidence);
    info->evidence = NULL;
    info->evidence_len = 0;
}

/* ---- sets of ids ------------------------------------------------------------- */

typedef struct idset {
    vg_id *ids;
    size_t n, cap;
} idset;

static void set_add(idset *s, const char *id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ids = vg_xrealloc(s->ids, s->cap * sizeof *s->ids);
    }
    snprintf(s->ids[s->n++], sizeof(vg_id), "%s", id);
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void set_sort(idset *s)
{
    if (s->n)
        qsort(s->ids, s->n, sizeof *s->ids, id_cmp);
}

static bool set_has(const idset *s, const char *id)
{
    return id && s->n && bsearch(id, s->ids, s->n, sizeof *s->ids, id_cmp) != NULL;
}

/* The string value of a top-level member of JSON text (ids: no escapes) into out. */
static bool text_str(const char *text, size_t len, const char *key, char *out, size_t outsz)
{
    const char *vs, *ve;
    if (!vg_json_member(text, len, key, &vs, &ve) || ve - vs < 2 || *vs != '"' ||
        (size_t)(ve - vs - 2) >= outsz)
        return false;
    memcpy(out, vs + 1, (size_t)(ve - vs - 2));
    out[ve - vs - 2] = '\0';
    return true;
}

/* ---- choosing the ops -------------------------------------------------------- */

typedef struct pick {
    idset cases, alerts;
    idset parts; /* the parts sent (unsorted: there are few) */
    bool ledger;
    vg_buf *out;
    int64_t n;
    vg_buf part; /* a part being made */
    vg_err *err;
} pick;

/* The object text [s, e) without its members "case" and "artifacts", appended,
 * with the member text lead (NULL: none) first. */
static vg_rc strip_case(vg_buf *b, const char *s, const char *e, const char *lead)
{
    const char *p = s + 1;
    bool first = lead == NULL;
    vg_rc rc = vg_buf_adds(b, "{");
    if (rc == VG_OK && lead)
        rc = vg_buf_adds(b, lead);
    while (rc == VG_OK && p < e) {
        while (p < e && (*p == ',' || *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (p >= e || *p != '"')
            break;
        const char *k = p, *q = vg_json_string_end(p, e);
        const char *v = q;
        while (v < e && (*v == ':' || *v == ' '))
            v++;
        const char *ve = vg_json_value_end(v, e);
        bool drop = (q - k == 6 && memcmp(k, "\"case\"", 6) == 0) ||
                    (q - k == 11 && memcmp(k, "\"artifacts\"", 11) == 0);
        if (!drop) {
            if (!first)
                rc = vg_buf_adds(b, ",");
            if (rc == VG_OK)
                rc = vg_buf_add(b, k, (size_t)(ve - k));
            first = false;
        }
        p = ve;
    }
    return rc ? rc : vg_buf_adds(b, "}");
}

static vg_rc emit(pick *p, const vg_op *op, const char *text, size_t len)
{
    /* a part held here is also made again from its original: send it once */
    if (strcmp(op->kind, "alert.import") == 0 && strstr(text, "\"part_of\":")) {
        for (size_t i = 0; i < p->parts.n; i++)
            if (strcmp(p->parts.ids[i], op->id) == 0)
                return VG_OK;
        set_add(&p->parts, op->id);
    }
    p->n++;
    return vg_op_wire(op, text, len, 0, p->out, p->err);
}

/* A part of op (an alert.import or alert.add): the elements chosen, made into a new
 * alert.import whose id is derived from the original's and the elements'. */
static vg_rc emit_part(pick *p, const vg_op *op, const char *root, const vg_id *ids,
                       const int64_t *places, size_t n)
{
    unsigned char h[32];
    crypto_generichash_state gs;
    crypto_generichash_init(&gs, NULL, 0, sizeof h);
    crypto_generichash_update(&gs, (const unsigned char *)"vigil-part", 11);
    crypto_generichash_update(&gs, (const unsigned char *)op->id, VG_ID_LEN);
    for (size_t i = 0; i < n; i++)
        crypto_generichash_update(&gs, (const unsigned char *)ids[i], VG_ID_LEN);
    crypto_generichash_final(&gs, h, sizeof h);
    vg_op part = *op;
    vg_ulid_from(vg_ulid_ms(op->id), h, part.id);
    memcpy(part.target, part.id, sizeof part.target);
    snprintf(part.kind, sizeof part.kind, "alert.import");
    vg_rc rc = vg_buf_addf(&p->part, "],\"part_of\":\"%s\",\"part_at\":[", root);
    for (size_t i = 0; rc == VG_OK && i < n; i++)
        rc = vg_buf_addf(&p->part, "%s%lld", i ? "," : "", (long long)places[i]);
    if (rc == VG_OK)
        rc = vg_buf_adds(&p->part, "]}");
    if (rc)
        return vg_fail(p->err, rc, "op %s: too large for a bundle", op->id);
    return emit(p, &part, p->part.data, p->part.len);
}

/* One element of an alert op, [s, e): appended to the part being made, without
 * its case when that case is not in the bundle. */
static vg_rc part_add(pick *p, const char *s, const char *e, bool *first)
{
    char c[VG_ID_LEN + 1];
    bool other = text_str(s, (size_t)(e - s), "case", c, sizeof c) && !set_has(&p->cases, c);
    vg_rc rc = *first ? VG_OK : vg_buf_adds(&p->part, ",");
    *first = false;
    if (rc == VG_OK)
        rc = other ? strip_case(&p->part, s, e, NULL) : vg_buf_add(&p->part, s, (size_t)(e - s));
    return rc;
}

static vg_rc pick_import(pick *p, vg_op *op)
{
    const char *t = op->text, *as, *ae, *at, *es, *ee;
    size_t tl = strlen(t);
    if (!vg_json_member(t, tl, "alerts", &as, &ae) || *as != '[')
        return VG_OK;
    size_t total = 0, chosen = 0, moved = 0, cap = 0;
    vg_id *ids = NULL;
    int64_t *places = NULL;
    char id[VG_ID_LEN + 1], c[VG_ID_LEN + 1];
    /* a part's elements keep their places in its original */
    const char *ps = NULL, *pe = NULL, *pat = NULL, *vs2, *ve2;
    if (vg_json_member(t, tl, "part_at", &ps, &pe) && *ps == '[')
        pat = ps + 1;
    for (at = as + 1; vg_json_next(&at, ae, &es, &ee); total++) {
        int64_t place = (int64_t)total;
        if (pat && vg_json_next(&pat, pe, &vs2, &ve2))
            place = strtoll(vs2, NULL, 10);
        if (!text_str(es, (size_t)(ee - es), "id", id, sizeof id) || !set_has(&p->alerts, id))
            continue;
        if (text_str(es, (size_t)(ee - es), "case", c, sizeof c) && !set_has(&p->cases, c))
            moved++;
        if (chosen == cap) {
            cap = cap ? cap * 2 : 64;
            ids = vg_xrealloc(ids, cap * sizeof *ids);
            places = vg_xrealloc(places, cap * sizeof *places);
        }
        places[chosen] = place;
        memcpy(ids[chosen++], id, sizeof id);
    }
    vg_rc rc = VG_OK;
    char root[VG_ID_LEN + 1];
    if (!text_str(t, tl, "part_of", root, sizeof root))
        memcpy(root, op->id, sizeof root);
    if (chosen == total && moved == 0 && total > 0) {
        rc = emit(p, op, t, tl); /* all of it is these cases' */
    } else if (chosen) {
        bool first = true;
        vg_buf_reset(&p->part);
        rc = vg_buf_adds(&p->part, "{\"alerts\":[");
        for (at = as + 1; rc == VG_OK && vg_json_next(&at, ae, &es, &ee);)
            if (text_str(es, (size_t)(ee - es), "id", id, sizeof id) && set_has(&p->alerts, id))
                rc = part_add(p, es, ee, &first);
        rc = rc ? vg_fail(p->err, rc, "op %s: too large for a bundle", op->id)
                : emit_part(p, op, root, ids, places, chosen);
    }
    free(ids);
    free(places);
    return rc;
}

/* A stamped alert.add of one of the alerts, whose case is not in the bundle: a part
 * of one element (the alert's id and the payload less its case). */
static vg_rc pick_alert_add(pick *p, vg_op *op)
{
    char lead[VG_ID_LEN + 16];
    snprintf(lead, sizeof lead, "\"id\":\"%s\"", op->target);
    vg_buf_reset(&p->part);
    vg_rc rc = vg_buf_adds(&p->part, "{\"alerts\":[");
    if (rc == VG_OK)
        rc = strip_case(&p->part, op->text, op->text + strlen(op->text), lead);
    if (rc)
        return vg_fail(p->err, rc, "op %s: too large for a bundle", op->id);
    vg_id ids[1];
    int64_t place = 0;
    memcpy(ids[0], op->target, sizeof ids[0]);
    return emit_part(p, op, op->id, (const vg_id *)ids, &place, 1);
}

static vg_rc pick_one(void *ud, vg_op *op)
{
    pick *p = ud;
    const char *k = op->kind, *t = op->text;
    size_t tl = t ? strlen(t) : 0;
    char c[VG_ID_LEN + 1] = "";
    bool has_case = t && text_str(t, tl, "case", c, sizeof c);
    if (!t)
        return VG_OK;
    if (strncmp(k, "case.", 5) == 0)
        return set_has(&p->cases, op->target) ? emit(p, op, t, tl) : VG_OK;
    if (strcmp(k, "alert.import") == 0)
        return pick_import(p, op);
    if (strcmp(k, "alert.add") == 0) {
        if (!set_has(&p->alerts, op->target) && !(has_case && set_has(&p->cases, c)))
            return VG_OK;
        return !has_case || set_has(&p->cases, c) ? emit(p, op, t, tl) : pick_alert_add(p, op);
    }
    if (strcmp(k, "alert.set") == 0)
        return set_has(&p->alerts, op->target) && (!has_case || set_has(&p->cases, c))
                   ? emit(p, op, t, tl)
                   : VG_OK;
    if (strcmp(k, "ledger.add") == 0 && !p->ledger)
        return VG_OK;
    if (strncmp(k, "playbook.", 9) == 0 && strcmp(k, "playbook.apply") != 0)
        return VG_OK; /* the workspace's copies of playbooks stay where they are */
    return has_case && set_has(&p->cases, c) ? emit(p, op, t, tl) : VG_OK;
}

/* The cases a bundle of these holds: each one, or the case it was merged into (its
 * rows are there), and every case merged into those, so that the merged cases' ops
 * and the case.merge ops that moved their rows travel too (op.h: case.merge). */
static vg_rc case_group(vg_ws *ws, const vg_id *cases, size_t n, idset *out, vg_err *err)
{
    static const char live[] = "SELECT coalesce(merged_into, id) FROM cases WHERE id = ?1";
    static const char merged[] = "SELECT id FROM cases WHERE merged_into = ?1";
    idset lives = {0};
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, live, &st, err);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, cases[i], -1, SQLITE_STATIC);
        set_add(&lives, sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                                       : cases[i]);
        sqlite3_reset(st);
    }
    if (rc == VG_OK)
        rc = ws_stmt_text(ws, merged, &st, err);
    set_sort(&lives);
    for (size_t i = 0; rc == VG_OK && i < lives.n; i++) {
        if (i && strcmp(lives.ids[i], lives.ids[i - 1]) == 0)
            continue; /* two cases named that went to one */
        set_add(out, lives.ids[i]);
        sqlite3_bind_text(st, 1, lives.ids[i], -1, SQLITE_STATIC);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            set_add(out, (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        if (s != SQLITE_DONE)
            rc = ws_dberr(ws, err, "listing the cases merged into a case");
    }
    free(lives.ids);
    set_sort(out);
    return rc;
}

/* The alerts on the cases, by every id they are known by. */
static vg_rc case_alerts(vg_ws *ws, const idset *cases, idset *alerts, vg_err *err)
{
    static const char sql[] = "SELECT id FROM alerts WHERE case_id = ?1 UNION ALL"
                              " SELECT i.id FROM alert_ids i JOIN alerts a ON a.rowid = i.alert"
                              " WHERE a.case_id = ?1";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    for (size_t i = 0; rc == VG_OK && i < cases->n; i++) {
        sqlite3_bind_text(st, 1, cases->ids[i], -1, SQLITE_STATIC);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            set_add(alerts, (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        if (s != SQLITE_DONE)
            rc = ws_dberr(ws, err, "listing a case's alerts");
    }
    set_sort(alerts);
    return rc;
}

static cJSON *manifest_new(vg_ws *ws, const idset *cases, bool ledger, const vg_identity *me,
                           int64_t ops, vg_err *err)
{
    sqlite3_stmt *st;
    if (ws_stmt_text(ws, "SELECT ref, title FROM cases WHERE id = ?", &st, err))
        return NULL;
    char fp[VG_FP_TEXT];
    vg_pubkey_fp_text(&me->pub, fp);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "vigil_bundle", 1);
    cJSON_AddNumberToObject(m, "created_at", (double)vg_now_ms());
    cJSON_AddStringToObject(m, "sender", me->pub.name);
    cJSON_AddStringToObject(m, "sender_fp", fp);
    cJSON_AddStringToObject(m, "replica", vg_ws_replica(ws));
    cJSON_AddBoolToObject(m, "ledger", ledger);
    cJSON_AddNumberToObject(m, "ops", (double)ops);
    cJSON *arr = cJSON_AddArrayToObject(m, "cases");
    for (size_t i = 0; i < cases->n; i++) {
        sqlite3_bind_text(st, 1, cases->ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "id", cases->ids[i]);
            cJSON_AddNumberToObject(c, "ref", (double)sqlite3_column_int64(st, 0));
            cJSON_AddStringToObject(c, "title", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddItemToArray(arr, c);
        }
        sqlite3_reset(st);
    }
    return m;
}

/* Seal plain into body (secretstream chunks), the header text as the first
 * chunk's additional data. */
static void seal_body(const unsigned char key[32], const char *hdr, size_t hdrlen,
                      const unsigned char *plain, size_t len, vg_buf *body)
{
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char sh[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_init_push(&st, sh, key);
    unsigned char *ct = vg_xmalloc(CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES);
    if (vg_buf_add(body, sh, sizeof sh))
        abort();
    size_t off = 0;
    do {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        unsigned char tag = off + n == len ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
        unsigned long long cl = 0;
        crypto_secretstream_xchacha20poly1305_push(
            &st, ct, &cl, plain + off, n, off == 0 ? (const unsigned char *)hdr : NULL,
            off == 0 ? hdrlen : 0, tag);
        unsigned char be[4] = {(unsigned char)(cl >> 24), (unsigned char)(cl >> 16),
                               (unsigned char)(cl >> 8), (unsigned char)cl};
        if (vg_buf_add(body, be, 4) || vg_buf_add(body, ct, (size_t)cl))
            abort();
        off += n;
    } while (off < len);
    free(ct);
    sodium_memzero(&st, sizeof st);
}

vg_rc vg_bundle_export(vg_ws *ws, const vg_id *cases, size_t ncases, bool ledger,
                       const vg_identity *me, const vg_pubkey *to, size_t nto, vg_buf *out,
                       int64_t *ops, vg_err *err)
{
    int64_t carried;
    return vg_bundle_export_with(ws, cases, ncases, ledger, VG_EVIDENCE_BUNDLE_MAX, me, to, nto,
                                 out, ops, &carried, err);
}

/* The content of the cases' evidence items up to max bytes each, held here, each
 * blob once, appended to blobs and listed in arr ({sha256, size}). */
static vg_rc evidence_blobs(vg_ws *ws, const idset *cases, int64_t max, vg_buf *blobs, cJSON *arr,
                            int64_t *carried, vg_err *err)
{
    idset seen = {0};
    vg_rc rc = VG_OK;
    *carried = 0;
    for (size_t i = 0; rc == VG_OK && i < cases->n; i++) {
        vg_evidence *items;
        size_t n;
        if ((rc = vg_evidence_list(ws, cases->ids[i], &items, &n, err)))
            break;
        for (size_t k = 0; rc == VG_OK && k < n; k++) {
            vg_evidence *e = &items[k];
            bool dup = false;
            /* a set of ids is 27 bytes an entry: the hash's first 26 hex digits name it
             * well enough to skip a repeat, and the blob is checked whole below */
            char key[VG_ID_LEN + 1];
            snprintf(key, sizeof key, "%.26s", e->sha256);
            for (size_t j = 0; j < seen.n && !dup; j++)
                dup = strcmp(seen.ids[j], key) == 0;
            if (dup || e->size > max || !vg_evidence_present(ws, e))
                continue;
            size_t before = blobs->len;
            if ((rc = vg_evidence_read(ws, e, blobs, err))) {
                if (rc == VG_ECORRUPT) {
                    char why[sizeof err->msg];
                    memcpy(why, err->msg, sizeof why);
                    vg_fail(err, rc, "%.400s; nothing exported (vigil evidence verify)", why);
                }
                break;
            }
            set_add(&seen, key);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "sha256", e->sha256);
            cJSON_AddNumberToObject(x, "size", (double)(blobs->len - before));
            cJSON_AddItemToArray(arr, x);
            (*carried)++;
        }
        vg_evidences_free(items, n);
    }
    free(seen.ids);
    return rc;
}

vg_rc vg_bundle_export_with(vg_ws *ws, const vg_id *cases, size_t ncases, bool ledger,
                            int64_t evidence_max, const vg_identity *me, const vg_pubkey *to,
                            size_t nto, vg_buf *out, int64_t *ops, int64_t *carried, vg_err *err)
{
    *carried = 0;
    if (sodium_init() < 0)
        abort();
    *ops = 0;
    if (ncases == 0 || ncases > VG_BUNDLE_MAX_CASES)
        return vg_fail(err, VG_EINVAL, "a bundle holds 1 to %d cases", VG_BUNDLE_MAX_CASES);
    if (nto == 0 || nto > VG_BUNDLE_MAX_RECIPIENTS)
        return vg_fail(err, VG_EINVAL, "a bundle is for 1 to %d recipients",
                       VG_BUNDLE_MAX_RECIPIENTS);
    vg_buf lines;
    vg_buf_init(&lines, VG_BUNDLE_MAX_PLAIN);
    pick p = {.ledger = ledger, .out = &lines, .err = err};
    vg_buf_init(&p.part, VG_BUNDLE_MAX_PLAIN);
    vg_rc rc = case_group(ws, cases, ncases, &p.cases, err);
    if (rc == VG_OK)
        rc = case_alerts(ws, &p.cases, &p.alerts, err);
    if (rc == VG_OK)
        rc = vg_ops_each_text(ws, 0, pick_one, &p, err);
    cJSON *m = rc ? NULL : manifest_new(ws, &p.cases, ledger, me, p.n, err);
    if (rc == VG_OK && !m)
        rc = err->rc ? err->rc : VG_EIO;
    if (rc)
        goto out;
    /* format 2 when it carries evidence content: after the ops, the blobs, in the
     * manifest's order (a format 1 reader refuses it rather than take them for ops) */
    vg_buf blobs;
    vg_buf_init(&blobs, VG_BUNDLE_MAX_PLAIN);
    cJSON *ev = cJSON_CreateArray();
    if (evidence_max > 0 &&
        (rc = evidence_blobs(ws, &p.cases, evidence_max, &blobs, ev, carried, err))) {
        cJSON_Delete(ev);
        vg_buf_free(&blobs);
        goto out;
    }
    if (cJSON_GetArraySize(ev) > 0) {
        cJSON_ReplaceItemInObjectCaseSensitive(m, "vigil_bundle", cJSON_CreateNumber(2));
        cJSON_AddNumberToObject(m, "ops_bytes", (double)lines.len);
        cJSON_AddItemToObject(m, "evidence", ev);
    } else {
        cJSON_Delete(ev);
    }
    /* the plain text: the manifest line, then the ops (and blobs); then its zstd frame */
    char *mt = cJSON_PrintUnformatted(m);
    vg_buf plain;
    vg_buf_init(&plain, VG_BUNDLE_MAX_PLAIN);
    if (vg_buf_adds(&plain, mt) || vg_buf_adds(&plain, "\n") ||
        (lines.len && vg_buf_add(&plain, lines.data, lines.len)) ||
        (blobs.len && vg_buf_add(&plain, blobs.data, blobs.len)))
        rc = vg_fail(err, VG_EINVAL,
                     "the cases' ops and evidence are more than a bundle may hold (%llu bytes)",
                     (unsigned long long)VG_BUNDLE_MAX_PLAIN);
    free(mt);
    vg_buf_free(&lines);
    vg_buf_free(&blobs);
    size_t zcap = ZSTD_compressBound(plain.len);
    unsigned char *z = rc ? NULL : vg_xmalloc(zcap);
    size_t zl = z ? ZSTD_compress(z, zcap, plain.data, plain.len, 9) : 0;
    vg_buf_free(&plain);
    if (rc == VG_OK && ZSTD_isError(zl))
        rc = vg_fail(err, VG_EIO, "compressing the bundle: %s", ZSTD_getErrorName(zl));
    if (rc) {
        free(z);
        goto out;
    }
    /* the header, the body sealed under a fresh key, the key sealed to each */
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    crypto_secretstream_xchacha20poly1305_keygen(key);
    char fp[VG_FP_TEXT];
    vg_buf hdr, body;
    vg_buf_init(&hdr, HEADER_MAX);
    vg_buf_init(&body, VG_BUNDLE_MAX_FILE);
    vg_pubkey_fp_text(&me->pub, fp);
    if (vg_buf_adds(&hdr, VG_BUNDLE_MAGIC) || vg_buf_addf(&hdr, "sender %s\n", fp))
        abort();
    for (size_t i = 0; i < nto; i++) {
        unsigned char sealed[SEALED];
        char b64[sodium_base64_ENCODED_LEN(SEALED, B64)];
        crypto_box_seal(sealed, key, sizeof key, to[i].box);
        sodium_bin2base64(b64, sizeof b64, sealed, sizeof sealed, B64);
        vg_pubkey_fp_text(&to[i], fp);
        if (vg_buf_addf(&hdr, "recipient %s %s\n", fp, b64))
            abort();
    }
    /* the body's length is known before it is made: 24 + chunks of 4 + n + 17 */
    size_t nchunks = zl / CHUNK + (zl % CHUNK || zl == 0 ? 1 : 0);
    uint64_t blen = crypto_secretstream_xchacha20poly1305_HEADERBYTES +
                    nchunks * (4 + crypto_secretstream_xchacha20poly1305_ABYTES) + zl;
    if (vg_buf_addf(&hdr, "ops %lld\nbytes %llu\n\n", (long long)p.n, (unsigned long long)blen))
        abort();
    seal_body(key, hdr.data, hdr.len, z, zl, &body);
    sodium_memzero(key, sizeof key);
    free(z);
    unsigned char sig[SIG];
    /* Ed25519 over header || body: one message, signed whole */
    unsigned char *msg = vg_xmalloc(hdr.len + body.len);
    memcpy(msg, hdr.data, hdr.len);
    memcpy(msg + hdr.len, body.data, body.len);
    crypto_sign_detached(sig, NULL, msg, hdr.len + body.len, me->sign_sk);
    free(msg);
    if (vg_buf_add(out, hdr.data, hdr.len) || vg_buf_add(out, body.data, body.len) ||
        vg_buf_add(out, sig, sizeof sig))
        rc = vg_fail(err, VG_EINVAL, "the bundle is larger than %llu bytes",
                     (unsigned long long)VG_BUNDLE_MAX_FILE);
    vg_buf_free(&hdr);
    vg_buf_free(&body);
    *ops = p.n;
out:
    cJSON_Delete(m);
    vg_buf_free(&lines);
    vg_buf_free(&p.part);
    free(p.cases.ids);
    free(p.alerts.ids);
    free(p.parts.ids);
    return rc;
}

/* ---- reading ----------------------------------------------------------------- */

static bool fp_parse(const char *s, size_t len, unsigned char out[VG_FP_BYTES])
{
    if (len != VG_FP_TEXT - 1 || memcmp(s, "vk1:", 4) != 0)
        return false;
    size_t o = 0;
    for (size_t i = 4; i < len; i++) {
        if (s[i] == '-')
            continue;
        if (o >= 2 * VG_FP_BYTES)
            return false;
        int v = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 87 : -1;
        if (v < 0)
            return false;
        if (o % 2 == 0)
            out[o / 2] = (unsigned char)(v << 4);
        else
            out[o / 2] |= (unsigned char)v;
        o++;
    }
    return o == 2 * VG_FP_BYTES;
}

vg_rc vg_bundle_header(const unsigned char *data, size_t len, const char *where,
                       vg_bundle_info *info, vg_err *err)
{
    memset(info, 0, sizeof *info);
    const char *t = (const char *)data, *end = t + (len < HEADER_MAX ? len : HEADER_MAX);
    size_t ml = strlen(VG_BUNDLE_MAGIC);
    if (len < ml && len > 0 && memcmp(t, VG_BUNDLE_MAGIC, len) == 0)
        return vg_fail(err, VG_ECORRUPT, "%s: cut short: only %zu bytes of its header are here",
                       where, len);
    if (len < ml || memcmp(t, VG_BUNDLE_MAGIC, ml) != 0)
        return vg_fail(err, VG_EINVAL, "%s: not a vigil bundle (it does not start 'vigil-bundle 1')",
                       where);
    const char *p = t + ml;
    bool sender = false, ops = false, bytes = false;
    int line = 1;
    for (;;) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return vg_fail(err, VG_ECORRUPT, "%s: the header is cut short (line %d)", where, line);
        size_t l = (size_t)(nl - p);
        if (l == 0) {
            p = nl + 1;
            break;
        }
        const char *sp = memchr(p, ' ', l);
        size_t kl = sp ? (size_t)(sp - p) : l;
        const char *v = sp ? sp + 1 : nl;
        size_t vl = (size_t)(nl - v);
        char num[24];
        if (kl == 6 && memcmp(p, "sender", 6) == 0 && !sender) {
            if (!fp_parse(v, vl, info->sender))
                return vg_fail(err, VG_EINVAL, "%s: line %d: the sender is not a fingerprint",
                               where, line);
            sender = true;
        } else if (kl == 9 && memcmp(p, "recipient", 9) == 0) {
            const char *sp2 = memchr(v, ' ', vl);
            if (info->nrecipients == VG_BUNDLE_MAX_RECIPIENTS)
                return vg_fail(err, VG_EINVAL, "%s: more than %d recipients", where,
                               VG_BUNDLE_MAX_RECIPIENTS);
            if (!sp2 || !fp_parse(v, (size_t)(sp2 - v), info->recipients[info->nrecipients]) ||
                !vg_b64_exact(sp2 + 1, (size_t)(nl - sp2 - 1), info->sealed[info->nrecipients],
                              SEALED))
                return vg_fail(err, VG_EINVAL, "%s: line %d: a recipient line is damaged", where,
                               line);
            info->nrecipients++;
        } else if (((kl == 3 && memcmp(p, "ops", 3) == 0 && !ops) ||
                    (kl == 5 && memcmp(p, "bytes", 5) == 0 && !bytes)) &&
                   vl > 0 && vl < sizeof num && strspn(v, "0123456789") == vl) {
            memcpy(num, v, vl);
            num[vl] = '\0';
            unsigned long long n = strtoull(num, NULL, 10);
            if (kl == 3) {
                info->ops = (int64_t)n;
                ops = true;
            } else {
                info->bytes = n;
                bytes = true;
            }
        } else {
            return vg_fail(err, VG_EINVAL, "%s: line %d: unexpected header line '%.*s'", where,
                           line, (int)(l < 40 ? l : 40), p);
        }
        p = nl + 1;
    }
    if (!sender || !ops || !bytes || info->nrecipients == 0)
        return vg_fail(err, VG_EINVAL, "%s: the header lacks its %s line", where,
                       !sender ? "sender" : !ops ? "ops" : !bytes ? "bytes" : "recipient");
    info->header_len = (size_t)(p - t);
    uint64_t want = info->header_len + info->bytes + SIG;
    if (len < want)
        return vg_fail(err, VG_ECORRUPT, "%s: cut short: %zu of its %llu bytes are here", where,
                       len, (unsigned long long)want);
    if (len > want)
        return vg_fail(err, VG_ECORRUPT, "%s: %llu bytes after the bundle's end", where,
                       (unsigned long long)(len - want));
    return VG_OK;
}

/* Decrypt the body into its zstd frame, then that into out (capped). */
static vg_rc unseal_body(const unsigned char key[32], const unsigned char *hdr, size_t hdrlen,
                         const unsigned char *b, size_t len, const char *where, vg_buf *out,
                         vg_err *err)
{
    crypto_secretstream_xchacha20poly1305_state st;
    size_t hb = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    if (len < hb || crypto_secretstream_xchacha20poly1305_init_pull(&st, b, key) != 0)
        return vg_fail(err, VG_ECORRUPT, "%s: the body is damaged", where);
    vg_buf z;
    vg_buf_init(&z, VG_BUNDLE_MAX_FILE);
    unsigned char *pt = vg_xmalloc(CHUNK);
    size_t off = hb;
    bool final = false, first = true;
    vg_rc rc = VG_OK;
    while (rc == VG_OK && off < len && !final) {
        if (len - off < 4) {
            rc = vg_fail(err, VG_ECORRUPT, "%s: the body is damaged (a chunk is cut)", where);
            break;
        }
        size_t cl = (size_t)b[off] << 24 | (size_t)b[off + 1] << 16 | (size_t)b[off + 2] << 8 |
                    b[off + 3];
        off += 4;
        unsigned long long pl = 0;
        unsigned char tag = 0;
        if (cl > CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES || cl > len - off ||
            crypto_secretstream_xchacha20poly1305_pull(&st, pt, &pl, &tag, b + off, cl,
                                                       first ? hdr : NULL, first ? hdrlen : 0) !=
                0) {
            rc = vg_fail(err, VG_ECORRUPT, "%s: the body is damaged (a chunk does not decrypt)",
                         where);
            break;
        }
        first = false;
        final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        off += cl;
        if (vg_buf_add(&z, pt, (size_t)pl))
            rc = vg_fail(err, VG_EINVAL, "%s: larger than a bundle may be", where);
    }
    if (rc == VG_OK && (!final || off != len))
        rc = vg_fail(err, VG_ECORRUPT, "%s: the body is damaged (%s)", where,
                     final ? "bytes after its last chunk" : "its last chunk is missing");
    sodium_memzero(&st, sizeof st);
    free(pt);
    if (rc == VG_OK) {
        ZSTD_DCtx *d = ZSTD_createDCtx();
        ZSTD_inBuffer in = {z.data, z.len, 0};
        char *o = vg_xmalloc(1 << 20);
        size_t r = 1;
        while (rc == VG_OK && (in.pos < in.size || r != 0)) {
            ZSTD_outBuffer ob = {o, 1 << 20, 0};
            r = ZSTD_decompressStream(d, &ob, &in);
            if (ZSTD_isError(r))
                rc = vg_fail(err, VG_ECORRUPT, "%s: the contents do not decompress: %s", where,
                             ZSTD_getErrorName(r));
            else if (vg_buf_add(out, o, ob.pos))
                rc = vg_fail(err, VG_EINVAL, "%s: its contents are larger than %llu bytes", where,
                             (unsigned long long)VG_BUNDLE_MAX_PLAIN);
            else if (ob.pos == 0 && in.pos == in.size && r != 0)
                rc = vg_fail(err, VG_ECORRUPT, "%s: the contents are cut short", where);
        }
        free(o);
        ZSTD_freeDCtx(d);
    }
    vg_buf_free(&z);
    return rc;
}

/* A format 2 manifest's ops_bytes and evidence list against the rest bytes after
 * it: *blobs the blobs' total, which must be what follows the ops exactly. */
static vg_rc evidence_layout(const cJSON *m, size_t rest, const char *where, size_t *blobs,
                             vg_err *err)
{
    const cJSON *ob = cJSON_GetObjectItemCaseSensitive(m, "ops_bytes");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(m, "evidence");
    *blobs = 0;
    if (!cJSON_IsNumber(ob) || !cJSON_IsArray(ev) || ob->valuedouble < 0 ||
        ob->valuedouble > (double)rest)
        return vg_fail(err, VG_ECORRUPT, "%s: its manifest does not say where its ops end", where);
    size_t total = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, ev)
    {
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(x, "sha256");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(x, "size");
        if (!cJSON_IsString(sha) || strlen(sha->valuestring) != 64 ||
            strspn(sha->valuestring, "0123456789abcdef") != 64 || !cJSON_IsNumber(size) ||
            size->valuedouble < 0 || size->valuedouble > (double)rest)
            return vg_fail(err, VG_ECORRUPT, "%s: an evidence entry of its manifest is damaged",
                           where);
        total += (size_t)size->valuedouble;
        if (total > rest)
            break;
    }
    if (total != rest - (size_t)ob->valuedouble)
        return vg_fail(err, VG_ECORRUPT,
                       "%s: its evidence content is not the length its manifest says", where);
    *blobs = total;
    return VG_OK;
}

vg_rc vg_bundle_evidence_store(vg_ws *ws, const vg_bundle_info *info, int64_t *stored, vg_err *err)
{
    *stored = 0;
    const cJSON *x;
    size_t off = 0;
    vg_rc rc = VG_OK;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(info->manifest, "evidence"))
    {
        const char *sha = cJSON_GetObjectItemCaseSensitive(x, "sha256")->valuestring;
        size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(x, "size")->valuedouble;
        if (off + n > info->evidence_len)
            return vg_fail(err, VG_ECORRUPT, "the bundle's evidence content is cut short");
        if ((rc = vg_evidence_store(ws, sha, info->evidence + off, n, err)))
            return rc;
        off += n;
        (*stored)++;
        /* every item of this content here is now held */
        static const char sql[] = "SELECT id FROM evidence WHERE sha256 = ? AND path IS NULL";
        sqlite3_stmt *st;
        if ((rc = ws_stmt_text(ws, sql, &st, err)))
            return rc;
        sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
        idset ids = {0};
        while (sqlite3_step(st) == SQLITE_ROW)
            set_add(&ids, (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        for (size_t i = 0; rc == VG_OK && i < ids.n; i++)
            rc = vg_evidence_mark_held(ws, ids.ids[i], err);
        free(ids.ids);
        if (rc)
            return rc;
    }
    return VG_OK;
}

vg_rc vg_bundle_open(const unsigned char *data, size_t len, const char *where,
                     const vg_identity *me, const vg_keyring *trusted, vg_bundle_info *info,
                     char **ops_text, size_t *ops_len, vg_err *err)
{
    if (sodium_init() < 0)
        abort();
    *ops_text = NULL;
    *ops_len = 0;
    vg_rc rc = vg_bundle_header(data, len, where, info, err);
    if (rc)
        return rc;
    unsigned char mine[VG_FP_BYTES];
    char fp[VG_FP_TEXT], fp2[VG_FP_TEXT];
    vg_pubkey_fp(&me->pub, mine);
    vg_fp_format(info->sender, fp);
    const vg_pubkey *sender = sodium_memcmp(info->sender, mine, VG_FP_BYTES) == 0
                                  ? &me->pub
                                  : vg_keyring_by_fp(trusted, info->sender);
    if (!sender)
        return vg_fail(err, VG_EINVAL,
                       "%s: signed by %s, a key you do not trust (check its fingerprint with its"
                       " owner, then `vigil key trust`); nothing imported", where, fp);
    if (crypto_sign_verify_detached(data + len - SIG, data, len - SIG, sender->sign) != 0)
        return vg_fail(err, VG_ECORRUPT,
                       "%s: the signature of %s (%s) does not match: the bundle was altered after"
                       " it was made; nothing imported", where, sender->name, fp);
    size_t i = 0;
    while (i < info->nrecipients && sodium_memcmp(info->recipients[i], mine, VG_FP_BYTES) != 0)
        i++;
    if (i == info->nrecipients) {
        char list[512] = "";
        for (size_t k = 0; k < info->nrecipients && k < 8; k++) {
            const vg_pubkey *r = vg_keyring_by_fp(trusted, info->recipients[k]);
            vg_fp_format(info->recipients[k], fp2);
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s%s%s%s", k ? ", " : "", r ? r->name : "",
                     r ? " (" : "", fp2, r ? ")" : "");
        }
        vg_fp_format(mine, fp2);
        return vg_fail(err, VG_EINVAL, "%s: sealed to %s, not to your key %s; nothing imported",
                       where, list, fp2);
    }
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    if (crypto_box_seal_open(key, info->sealed[i], SEALED, me->pub.box, me->box_sk) != 0)
        return vg_fail(err, VG_ECORRUPT, "%s: the key sealed to you does not open; nothing imported",
                       where);
    vg_buf plain;
    vg_buf_init(&plain, VG_BUNDLE_MAX_PLAIN);
    rc = unseal_body(key, data, info->header_len, data + info->header_len, (size_t)info->bytes,
                     where, &plain, err);
    sodium_memzero(key, sizeof key);
    const char *nl = rc ? NULL : memchr(plain.data ? plain.data : "", '\n', plain.len);
    cJSON *m = nl ? cJSON_ParseWithLength(plain.data, (size_t)(nl - plain.data)) : NULL;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(m, "vigil_bundle");
    const cJSON *sfp = cJSON_GetObjectItemCaseSensitive(m, "sender_fp");
    const cJSON *nops = cJSON_GetObjectItemCaseSensitive(m, "ops");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(m, "cases");
    if (rc == VG_OK && (!cJSON_IsNumber(ver) || !cJSON_IsString(sfp) || !cJSON_IsNumber(nops) ||
                        !cJSON_IsArray(cases)))
        rc = vg_fail(err, VG_ECORRUPT, "%s: its manifest is not a bundle's", where);
    else if (rc == VG_OK && ver->valuedouble != 1 && ver->valuedouble != 2)
        rc = vg_fail(err, VG_EINVAL, "%s: bundle format %g; this vigil reads formats 1 and 2",
                     where, ver->valuedouble);
    else if (rc == VG_OK && (strcmp(sfp->valuestring, fp) != 0 || nops->valuedouble != (double)info->ops))
        rc = vg_fail(err, VG_ECORRUPT, "%s: its manifest does not agree with its header", where);
    if (rc) {
        cJSON_Delete(m);
        vg_buf_free(&plain);
        return rc;
    }
    size_t rest = plain.len - (size_t)(nl + 1 - plain.data), blobs = 0;
    if (ver->valuedouble == 2 && (rc = evidence_layout(m, rest, where, &blobs, err))) {
        cJSON_Delete(m);
        vg_buf_free(&plain);
        return rc;
    }
    info->manifest = m;
    *ops_len = rest - blobs;
    *ops_text = vg_xmalloc(*ops_len + 1);
    memcpy(*ops_text, nl + 1, *ops_len);
    (*ops_text)[*ops_len] = '\0';
    if (blobs) {
        info->evidence = vg_xmalloc(blobs);
        memcpy(info->evidence, nl + 1 + *ops_len, blobs);
        info->evidence_len = blobs;
    }
    vg_buf_free(&plain);
    return VG_OK;
}

/* ---- merging ----------------------------------------------------------------- */

/* Is every case an op names one of the bundle's? */
static vg_rc merge_check(void *ud, const vg_op *op, vg_err *err)
{
    const idset *cases = ud;
    const char *k = op->kind;
    static const char *const kinds[] = {
        "case.create", "case.set",   "case.renumber", "note.add",     "artifact.add",
        "artifact.remove", "task.add", "task.set",    "task.log",     "event.add",    "event.set",
        "alert.add",   "alert.set",  "alert.import",  "playbook.apply", "ledger.add",
        "case.merge", "evidence.add", "evidence.custody"};
    bool ok = false;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        ok = ok || strcmp(k, kinds[i]) == 0;
    if (!ok)
        return vg_fail(err, VG_EINVAL, "a bundle does not carry %s ops", k);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(op->payload, "case");
    if (strncmp(k, "case.", 5) == 0) {
        const cJSON *into = cJSON_GetObjectItemCaseSensitive(op->payload, "into");
        if (!set_has(cases, op->target))
            return vg_fail(err, VG_EINVAL, "it writes case %s, which the bundle does not hold",
                           op->target);
        if (strcmp(k, "case.merge") == 0 &&
            (!cJSON_IsString(into) || !set_has(cases, into->valuestring)))
            return vg_fail(err, VG_EINVAL, "it merges into a case the bundle does not hold");
    } else if (strcmp(k, "alert.import") == 0) {
        const cJSON *el;
        cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(op->payload, "alerts"))
        {
            const cJSON *ec = cJSON_GetObjectItemCaseSensitive(el, "case");
            if (cJSON_IsString(ec) && !set_has(cases, ec->valuestring))
                return vg_fail(err, VG_EINVAL,
                               "an alert in it goes to case %.26s, which the bundle does not hold",
                               ec->valuestring);
        }
    } else if (strncmp(k, "alert.", 6) != 0 || c) {
        if (!cJSON_IsString(c) || !set_has(cases, c->valuestring))
            return vg_fail(err, VG_EINVAL, "it writes a case the bundle does not hold");
    }
    return VG_OK;
}

vg_rc vg_bundle_merge(vg_ws *ws, const cJSON *manifest, const char *ops_text, size_t ops_len,
                      vg_received *r, vg_err *err)
{
    idset cases = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(manifest, "cases"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        if (cJSON_IsString(id) && vg_ulid_valid(id->valuestring))
            set_add(&cases, id->valuestring);
    }
    set_sort(&cases);
    vg_rc rc = vg_batch_begin(ws, err);
    if (rc == VG_OK && (rc = vg_ops_receive(ws, ops_text, ops_len, merge_check, &cases, r, err)))
        vg_batch_rollback(ws);
    else if (rc == VG_OK)
        rc = vg_batch_commit(ws, err);
    free(cases.ids);
    return rc;
}
