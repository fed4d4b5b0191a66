/*
 * turn.c — one question and answer, its ledger entries, and applying proposals.
 *
 * A turn writes to the ledger, in order: the prompt (the full text sent and its
 * BLAKE2b hash), the response (text, latency, what was rejected), one proposal
 * entry per accepted proposal ({id, type, params, preview, mode, flagged}) and a
 * decision entry for each proposal that is decided ({proposal, state, by, op,
 * result}). A proposal's state is therefore in the ledger alone: proposed until a
 * decision names it, then applied, cancelled or failed for good. Applying checks
 * "no decision yet", writes through vg_apply and appends the decision in one
 * transaction, so a proposal is applied once even by two processes at the same
 * moment.
 *
 * Under `auto`, a proposal whose value only the fenced data holds (the analyst
 * never wrote it in this session) is held for review instead, with the reason:
 * the detector is a tripwire, and this holds what it misses.
 *
 * A general turn (the open queue, no case) writes the same entries into a session
 * of no case; each of its proposals names the case it acts on ({..., case,
 * case_ref}), and applying one acts on that case, checked to exist, through the
 * same door.
 */
#include "copilot.h"
#include "vigil/playbook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/buf.h"
#include "vigil/ioc.h"
#include "vigil/ledger.h"
#include "vigil/op.h"
#include "vigil/query.h"

static const char *const state_names[] = {"proposed", "applied", "cancelled", "failed"};
const vg_enum COP_STATES = {"state", state_names, 4};

#define QUESTION_CAP 8000
#define HISTORY_TURNS 8
#define ANALYST_CAP (1 << 22) /* bytes of a session's questions kept for the auto check */

static char *json_text(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (!s)
        abort();
    char *out = vg_xstrdup(s);
    cJSON_free(s);
    return out;
}

/* The ledger's scope of a case id as the copilot keeps it: "" is no case (NULL). */
static const char *scope(const char *case_id) { return *case_id ? case_id : NULL; }

/* Append an entry whose content is the JSON object o (freed); case_id "" for a
 * general session. */
static vg_rc append_json(vg_ws *ws, const char *case_id, const char *session, const char *user,
                         int kind, const char *model, cJSON *o, vg_err *err)
{
    char *text = json_text(o);
    cJSON_Delete(o);
    vg_rc rc = vg_ledger_append(ws, scope(case_id), session, user, kind, model, text, NULL, err);
    free(text);
    return rc;
}

static vg_rc target_of(const vg_ledger_entry *p, const cJSON *content, vg_id out, vg_err *err);

static void add_message(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(msgs, m);
}

/* Earlier questions and answers of the session, as chat history; every earlier
 * question appended to asked. */
static vg_rc history(vg_ws *ws, cop_turn *t, vg_buf *asked, vg_err *err)
{
    vg_ledger_entry *e = NULL;
    size_t n = 0;
    vg_rc rc = vg_ledger_list(ws, scope(t->case_id), t->user, t->session_id, &e, &n, err);
    if (rc)
        return rc;
    size_t turns = 0, from = 0;
    for (size_t i = n; i-- > 0;)
        if (e[i].kind == VG_LEDGER_PROMPT && ++turns == HISTORY_TURNS) {
            from = i;
            break;
        }
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind != VG_LEDGER_PROMPT && (i < from || e[i].kind != VG_LEDGER_RESPONSE))
            continue;
        cJSON *c = cJSON_Parse(e[i].content);
        const char *q = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "question"));
        /* Past the cap the buffer is emptied: fewer of the analyst's words, so
         * more is held for review, never less. */
        if (e[i].kind == VG_LEDGER_PROMPT && q) {
            vg_rc full = vg_buf_addf(asked, "%s\n", q);
            (void)full;
        }
        if (i < from) {
            cJSON_Delete(c);
            continue;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
            c, e[i].kind == VG_LEDGER_PROMPT ? "question" : "answer");
        if (cJSON_IsString(v))
            add_message(t->messages, e[i].kind == VG_LEDGER_PROMPT ? "user" : "assistant",
                        v->valuestring);
        cJSON_Delete(c);
    }
    vg_ledger_free(e, n);
    return VG_OK;
}

/* Both kinds of turn: case_id NULL is a general one, about the open queue (with
 * the SLA targets sla_ms). */
static vg_rc begin(vg_ws *ws, const char *case_id, const int64_t *sla_ms, const char *session_id,
                   const char *user, const char *model, const char *question, size_t budget,
                   cop_turn *t, vg_err *err)
{
    memset(t, 0, sizeof *t);
    t->started_ms = vg_now_ms();
    snprintf(t->case_id, sizeof t->case_id, "%s", case_id ? case_id : "");
    t->user = vg_xstrdup(user);
    t->model = vg_xstrdup(model ? model : "");
    t->messages = cJSON_CreateArray();
    vg_rc rc;
    if (session_id) {
        if (!vg_ulid_valid(session_id))
            return vg_fail(err, VG_EINVAL, "'%.40s' is not a session id", session_id);
        snprintf(t->session_id, sizeof t->session_id, "%s", session_id);
    } else {
        vg_ulid(t->started_ms, t->session_id);
    }
    if ((rc = vg_ledger_session_check(ws, case_id, t->session_id, user, err)))
        return rc;
    t->question = cop_clean(question, QUESTION_CAP, true);
    t->note = cop_note_text(question);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if ((rc = case_id ? cop_context_build(ws, case_id, budget, &t->ctx, err)
                      : cop_queue_context_build(ws, sla_ms, budget, &t->ctx, err)))
        return rc;
    clock_gettime(CLOCK_MONOTONIC, &b);
    t->context_us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;

    char *rule = case_id ? cop_system_rule(t->ctx.nonce) : cop_queue_system_rule(t->ctx.nonce);
    add_message(t->messages, "system", rule);
    free(rule);
    vg_buf asked;
    vg_buf_init(&asked, ANALYST_CAP);
    if (session_id && (rc = history(ws, t, &asked, err)) != VG_OK && rc != VG_ENOTFOUND) {
        vg_buf_free(&asked);
        return rc;
    }
    /* within the cap: QUESTION_CAP is far less; if not, the question alone */
    t->analyst = vg_buf_adds(&asked, t->question) == VG_OK ? vg_buf_take(&asked)
                                                            : vg_xstrdup(t->question);
    vg_buf_free(&asked);
    size_t n = strlen(t->ctx.text) + strlen(t->question) + 64;
    char *user_msg = vg_xmalloc(n);
    snprintf(user_msg, n, "%s\nThe analyst's question:\n%s", t->ctx.text, t->question);
    add_message(t->messages, "user", user_msg);
    free(user_msg);

    return VG_OK;
}

vg_rc cop_turn_begin(vg_ws *ws, const char *case_id, const char *session_id, const char *user,
                     const char *model, const char *question, size_t budget, cop_turn *t,
                     vg_err *err)
{
    return begin(ws, case_id, NULL, session_id, user, model, question, budget, t, err);
}

vg_rc cop_turn_begin_queue(vg_ws *ws, const int64_t *sla_ms, const char *session_id,
                           const char *user, const char *model, const char *question,
                           size_t budget, cop_turn *t, vg_err *err)
{
    return begin(ws, NULL, sla_ms, session_id, user, model, question, budget, t, err);
}

vg_rc cop_turn_record(vg_ws *ws, cop_turn *t, vg_err *err)
{
    /* The ledger keeps the exact text sent and its hash. */
    char *sent = json_text(t->messages);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)sent, strlen(sent), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "question", t->question);
    cJSON_AddStringToObject(o, "prompt", sent);
    cJSON_AddStringToObject(o, "prompt_hash", hex);
    cJSON_AddNumberToObject(o, "context_tokens", (double)t->ctx.tokens);
    cJSON_AddNumberToObject(o, "context_us", (double)t->context_us);
    if (t->ctx.left_out[0])
        cJSON_AddStringToObject(o, "left_out", t->ctx.left_out);
    if (t->ctx.flags) {
        char names[128];
        cop_inject_names(t->ctx.flags, names, sizeof names);
        cJSON_AddStringToObject(o, "flagged", names);
        cJSON_AddStringToObject(o, "flagged_in", t->ctx.flagged_field);
    }
    free(sent);
    vg_rc rc = append_json(ws, t->case_id, t->session_id, t->user, VG_LEDGER_PROMPT, t->model, o,
                           err);
    if (rc == VG_OK)
        t->recorded = true;
    return rc;
}

static void add_item(cop_result *r, const char *id, cop_proposal *p, int mode)
{
    r->items = vg_xrealloc(r->items, (r->nitems + 1) * sizeof *r->items);
    cop_item *it = &r->items[r->nitems++];
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", id);
    it->p = *p;
    it->mode = mode;
    it->state = COP_PROPOSED;
    memset(p, 0, sizeof *p);
}

static vg_rc decide(vg_ws *ws, const vg_ledger_entry *prop, const char *id, int state,
                    const char *by, const char *op_id, const char *result, vg_err *err)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "proposal", id);
    cJSON_AddStringToObject(d, "state", state_names[state]);
    cJSON_AddStringToObject(d, "by", by);
    if (op_id)
        cJSON_AddStringToObject(d, "op", op_id);
    if (result)
        cJSON_AddStringToObject(d, "result", result);
    return append_json(ws, prop->case_id, prop->session_id, prop->user, VG_LEDGER_DECISION,
                       prop->model, d, err);
}

/* Record proposal p (moved into out's items) in the session as a proposal entry,
 * then decide it by the policy: applied when auto (never on a flagged turn, never
 * with a value only data holds), cancelled when reject, else left for review. via
 * names who proposed it when it is not a model's turn ("mcp"); a note an agent
 * proposes is its draft, applied only in the analyst's words. */
static vg_rc record(vg_ws *ws, const char *case_id, const char *session, const char *user,
                    const char *model, cop_proposal *p, const cop_policy *pol, bool flagged,
                    const char *data, const char *analyst, const char *via, cop_result *out,
                    vg_err *err)
{
    vg_id id;
    vg_ulid(vg_now_ms(), id);
    int mode = cop_policy_decide(pol, p->action, flagged);
    char held[300] = "";
    if (mode == COP_AUTO &&
        cop_untrusted_value(p->action, p->params, data ? data : "", analyst ? analyst : "", held,
                            sizeof held))
        mode = COP_REVIEW;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "type", vg_enum_name(&COP_ACTIONS, p->action));
    if (p->case_id[0]) { /* a general proposal: the case it acts on */
        cJSON_AddStringToObject(e, "case", p->case_id);
        cJSON_AddNumberToObject(e, "case_ref", (double)p->case_ref);
    }
    cJSON_AddItemToObject(e, "params", cJSON_Duplicate(p->params, true));
    cJSON_AddStringToObject(e, "preview", p->preview);
    cJSON_AddStringToObject(e, "mode", vg_enum_name(&COP_MODES, mode));
    cJSON_AddBoolToObject(e, "flagged", flagged);
    if (held[0])
        cJSON_AddStringToObject(e, "held", held);
    if (via) {
        cJSON_AddStringToObject(e, "via", via);
        if (p->action == COP_ADD_NOTE)
            cJSON_AddBoolToObject(e, "draft", true);
    }
    vg_rc rc = append_json(ws, case_id, session, user, VG_LEDGER_PROPOSAL, model, e, err);
    if (rc)
        return rc;
    add_item(out, id, p, mode);
    cop_item *it = &out->items[out->nitems - 1];
    if (held[0])
        it->result = vg_xstrdup(held);
    vg_err e2 = {0};
    if (mode == COP_AUTO) {
        free(it->result);
        it->result = NULL;
        rc = cop_proposal_apply(ws, user, id, NULL, "auto", &it->result, &e2);
        it->state = rc == VG_OK ? COP_APPLIED : COP_FAILED;
        if (rc != VG_OK)
            it->result = vg_xstrdup(e2.msg);
    } else if (mode == COP_REJECT) {
        vg_ledger_entry prop = {0};
        snprintf(prop.case_id, sizeof prop.case_id, "%s", case_id);
        snprintf(prop.session_id, sizeof prop.session_id, "%s", session);
        prop.user = (char *)user;
        prop.model = (char *)model;
        if ((rc = decide(ws, &prop, id, COP_CANCELLED, "policy", NULL,
                         "the policy rejects this action", err)))
            return rc;
        it->state = COP_CANCELLED;
        it->result = vg_xstrdup("rejected by the policy");
    }
    return VG_OK;
}

vg_rc cop_propose(vg_ws *ws, const char *case_id, const char *session_id, const char *user,
                  const char *model, const char *via, int action, const cJSON *params,
                  const cop_policy *pol, bool flagged, const char *data, cop_item *out,
                  vg_err *err)
{
    memset(out, 0, sizeof *out);
    if (action < 0 || action >= COP__NACTIONS)
        return vg_fail(err, VG_EINVAL, "no action %d", action);
    vg_rc rc = vg_ledger_session_check(ws, case_id, session_id, user, err);
    if (rc)
        return rc;
    vg_case c = {0};
    if ((rc = vg_case_get(ws, case_id, &c, err)))
        return rc;
    cop_proposal p = {.action = action};
    const char *note = action == COP_ADD_NOTE
                           ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "text"))
                           : NULL;
    if ((rc = cop_params_check(action, params, note, &p.params, err))) {
        vg_case_clear(&c);
        return rc;
    }
    if (action == COP_ADD_NOTE) { /* not the analyst's words: a draft of theirs to be */
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p.params, "text"));
        size_t n = strlen(text ? text : "") + 80;
        p.preview = vg_xmalloc(n);
        snprintf(p.preview, n, "add note (an agent's draft): \"%.400s\"",
                 text ? text : "");
    } else {
        p.preview = cop_preview(action, p.params, &c);
    }
    vg_case_clear(&c);
    cop_result r = {0};
    rc = record(ws, case_id, session_id, user, model, &p, pol, flagged, data, NULL, via, &r, err);
    cJSON_Delete(p.params); /* NULL when it moved into r */
    free(p.preview);
    if (rc == VG_OK && r.nitems == 1) {
        *out = r.items[0];
        r.nitems = 0;
    }
    cop_result_clear(&r);
    return rc;
}

void cop_items_free(cop_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(items[i].p.params);
        free(items[i].p.preview);
        free(items[i].result);
        free(items[i].model);
    }
    free(items);
}

vg_rc cop_pending(vg_ws *ws, const char *user, const char *case_id, cop_item **items, size_t *n,
                  vg_err *err)
{
    vg_ledger_entry *e = NULL;
    size_t ne = 0;
    *items = NULL;
    *n = 0;
    vg_rc rc = vg_ledger_open_proposals(ws, user, case_id, &e, &ne, err);
    if (rc)
        return rc;
    *items = ne ? vg_xcalloc(ne, sizeof **items) : NULL;
    for (size_t i = 0; i < ne; i++) {
        cJSON *o = cJSON_Parse(e[i].content);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
        int action = type ? vg_enum_parse(&COP_ACTIONS, type) : -1;
        if (action < 0 || !id) {
            cJSON_Delete(o);
            continue;
        }
        cop_item *it = &(*items)[(*n)++];
        snprintf(it->id, sizeof it->id, "%s", id);
        it->p.action = action;
        it->p.params = cJSON_DetachItemFromObjectCaseSensitive(o, "params");
        const char *pv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "preview"));
        it->p.preview = vg_xstrdup(pv ? pv : "");
        vg_id on;
        vg_err e2 = {0};
        if (target_of(&e[i], o, on, &e2) == VG_OK)
            memcpy(it->p.case_id, on, sizeof on);
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "case_ref");
        it->p.case_ref = cJSON_IsNumber(ref) ? (int64_t)ref->valuedouble : 0;
        const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "mode"));
        it->mode = mode ? vg_enum_parse(&COP_MODES, mode) : COP_REVIEW;
        it->state = COP_PROPOSED;
        it->draft = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "draft"));
        it->model = vg_xstrdup(e[i].model ? e[i].model : "");
        const char *held = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "held"));
        if (held)
            it->result = vg_xstrdup(held);
        cJSON_Delete(o);
    }
    vg_ledger_free(e, ne);
    return VG_OK;
}

vg_rc cop_turn_finish(vg_ws *ws, cop_turn *t, const char *reply, const cop_policy *pol,
                      cop_result *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!t->recorded)
        return vg_fail(err, VG_EINVAL, "the prompt of this turn is not in the ledger");
    out->flagged = t->ctx.flags != 0;
    vg_rc rc;
    if (t->ctx.queue) {
        cop_answer_parse_queue(reply, t->note, &t->ctx, &out->answer);
    } else {
        vg_case c = {0};
        if ((rc = vg_case_get(ws, t->case_id, &c, err)))
            return rc;
        cop_answer_parse(reply, t->note, &c, &out->answer);
        vg_case_clear(&c);
    }

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "reply", reply);
    cJSON_AddStringToObject(o, "answer", out->answer.text);
    cJSON_AddNumberToObject(o, "latency_ms", (double)(vg_now_ms() - t->started_ms));
    cJSON_AddBoolToObject(o, "flagged", out->flagged);
    if (out->answer.nrejected) {
        cJSON *rj = cJSON_AddArrayToObject(o, "rejected");
        for (size_t i = 0; i < out->answer.nrejected; i++)
            cJSON_AddItemToArray(rj, cJSON_CreateString(out->answer.rejected[i]));
    }
    if ((rc = append_json(ws, t->case_id, t->session_id, t->user, VG_LEDGER_RESPONSE, t->model,
                          o, err)))
        return rc;

    for (size_t i = 0; i < out->answer.nprops; i++)
        if ((rc = record(ws, t->case_id, t->session_id, t->user, t->model, &out->answer.props[i],
                         pol, out->flagged, t->ctx.text, t->analyst, NULL, out, err)))
            return rc;
    /* The proposals moved into items. */
    out->answer.nprops = 0;

    /* Suggestions are offered to a case; the general pane has none to add them to. */
    if (t->ctx.queue)
        return VG_OK;
    /* The note asked for, in the analyst's words, whatever the model proposed;
     * once, when the model's add_note already carries it. */
    bool noted = false;
    for (size_t i = 0; i < out->nitems; i++)
        noted |= out->items[i].p.action == COP_ADD_NOTE;
    if (!noted)
        cop_suggest_note(t->note, &out->suggestions, &out->nsuggestions);
    size_t n = strlen(t->question) + strlen(out->answer.text) + 2;
    char *both = vg_xmalloc(n);
    snprintf(both, n, "%s\n%s", t->question, out->answer.text);
    rc = cop_suggest(ws, t->case_id, both, &out->suggestions, &out->nsuggestions, err);
    free(both);
    return rc;
}

vg_rc cop_turn_fail(vg_ws *ws, cop_turn *t, const char *what, vg_err *err)
{
    if (!t->recorded)
        return vg_fail(err, VG_EINVAL, "the prompt of this turn is not in the ledger");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", what);
    cJSON_AddNumberToObject(o, "latency_ms", (double)(vg_now_ms() - t->started_ms));
    return append_json(ws, t->case_id, t->session_id, t->user, VG_LEDGER_ERROR, t->model, o, err);
}

void cop_turn_clear(cop_turn *t)
{
    if (!t)
        return;
    free(t->user);
    free(t->model);
    free(t->question);
    free(t->analyst);
    free(t->note);
    cop_context_clear(&t->ctx);
    cJSON_Delete(t->messages);
    memset(t, 0, sizeof *t);
}

void cop_result_clear(cop_result *r)
{
    if (!r)
        return;
    cop_answer_clear(&r->answer);
    for (size_t i = 0; i < r->nitems; i++) {
        cJSON_Delete(r->items[i].p.params);
        free(r->items[i].p.preview);
        free(r->items[i].result);
        free(r->items[i].model);
    }
    free(r->items);
    cop_suggestions_free(r->suggestions, r->nsuggestions);
    memset(r, 0, sizeof *r);
}

/* ---- proposals by id ----------------------------------------------------------------- */

/* The proposal entry for id, owned by user. */
static vg_rc find_proposal(vg_ws *ws, const char *user, const char *id, vg_ledger_entry *out,
                           vg_err *err)
{
    vg_rc rc = vg_ledger_find(ws, VG_LEDGER_PROPOSAL, id, out, err);
    if (rc == VG_ENOTFOUND)
        return vg_fail(err, VG_ENOTFOUND, "no proposal %.40s", id);
    if (rc)
        return rc;
    if (strcmp(out->user, user) != 0) {
        vg_ledger_clear(out);
        return vg_fail(err, VG_EINVAL, "proposal %.26s belongs to another user's session", id);
    }
    return VG_OK;
}

/* The state of a proposal from its decision, if any. */
static vg_rc state_of(vg_ws *ws, const char *id, int *state, vg_err *err)
{
    vg_ledger_entry d = {0};
    bool applied;
    *state = COP_PROPOSED;
    /* applied is the door's to say (vg_proposal_applied), whatever the ledger holds */
    vg_rc rc = vg_proposal_applied(ws, id, &applied, NULL, err);
    if (rc || applied) {
        *state = COP_APPLIED;
        return rc;
    }
    rc = vg_ledger_find(ws, VG_LEDGER_DECISION, id, &d, err);
    if (rc == VG_ENOTFOUND)
        return VG_OK;
    if (rc)
        return rc;
    cJSON *c = cJSON_Parse(d.content);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "state");
    *state = cJSON_IsString(s) ? vg_enum_parse(&COP_STATES, s->valuestring) : COP_FAILED;
    if (*state < 0)
        *state = COP_FAILED;
    cJSON_Delete(c);
    vg_ledger_clear(&d);
    return VG_OK;
}

/* The case a proposal entry acts on: its session's, or for a general session's
 * the one it names. */
static vg_rc target_of(const vg_ledger_entry *p, const cJSON *content, vg_id out, vg_err *err)
{
    if (p->case_id[0]) {
        memcpy(out, p->case_id, sizeof(vg_id));
        return VG_OK;
    }
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(content, "case"));
    if (!c || !vg_ulid_valid(c))
        return vg_fail(err, VG_ECORRUPT, "proposal %.26s: a general proposal that names no case",
                       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(content, "id")));
    snprintf(out, sizeof(vg_id), "%s", c);
    return VG_OK;
}

vg_rc cop_proposal_case(vg_ws *ws, const char *user, const char *proposal_id, vg_id case_out,
                        bool *general, vg_err *err)
{
    vg_ledger_entry p = {0};
    vg_rc rc = find_proposal(ws, user, proposal_id, &p, err);
    if (rc)
        return rc;
    cJSON *content = cJSON_Parse(p.content);
    rc = target_of(&p, content, case_out, err);
    if (general)
        *general = p.case_id[0] == '\0';
    cJSON_Delete(content);
    vg_ledger_clear(&p);
    return rc;
}

vg_rc cop_proposal_state(vg_ws *ws, const char *user, const char *proposal_id, int *state,
                         vg_err *err)
{
    vg_ledger_entry p = {0};
    vg_rc rc = find_proposal(ws, user, proposal_id, &p, err);
    if (rc)
        return rc;
    vg_ledger_clear(&p);
    return state_of(ws, proposal_id, state, err);
}

vg_rc cop_related(vg_ws *ws, const char *case_id, const char *value, char **result, vg_err *err)
{
    vg_artifact *a = NULL;
    size_t n = 0;
    vg_rc rc = vg_artifacts_of_case(ws, case_id, &a, &n, err);
    if (rc)
        return rc;
    char buf[2048];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!a[i].other_cases || (value && strcmp(a[i].value, value) != 0))
            continue;
        char refs[256];
        vg_refs_format(a[i].other_refs, a[i].other_cases > 5, refs, sizeof refs);
        int k = snprintf(buf + o, sizeof buf - o, "%s%.200s on %s", o ? "; " : "", a[i].value,
                         refs);
        if (k < 0 || (size_t)k >= sizeof buf - o)
            break;
        o += (size_t)k;
    }
    vg_artifacts_free(a, n);
    *result = vg_xstrdup(o ? buf : "no other case shares these artifacts");
    return VG_OK;
}

/* The queue language's field for an indicator found in a bare value. */
static const char *value_field(const char *value)
{
    static const struct { vg_ioc_kind kind; const char *field; } fields[] = {
        {VG_IOC_IPV4, "ip"},     {VG_IOC_IPV6, "ip"},     {VG_IOC_DOMAIN, "domain"},
        {VG_IOC_URL, "url"},     {VG_IOC_EMAIL, "email"}, {VG_IOC_MD5, "md5"},
        {VG_IOC_SHA1, "sha1"},   {VG_IOC_SHA256, "sha256"}, {VG_IOC_SHA512, "sha512"},
        {VG_IOC_CVE, "cve"},
    };
    vg_ioc_list l = {0};
    const char *field = NULL;
    if (vg_ioc_extract(value, strlen(value), &l) == 1)
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
            if (fields[i].kind == l.items[0].kind)
                field = fields[i].field;
    vg_ioc_list_free(&l);
    return field;
}

vg_rc cop_related_open(vg_ws *ws, const char *value, char **result, vg_err *err)
{
    *result = NULL;
    if (!value || !*value || strpbrk(value, " \t\"") || strlen(value) > 512)
        return vg_fail(err, VG_EINVAL, "related: give one value: host:ws-12, user:jsmith, or an"
                                       " IP, domain, URL, e-mail, hash or CVE");
    /* an indicator by its kind; else a typed term (host:ws-12); else a host name */
    const char *field = value_field(value);
    char q[600];
    if (field)
        snprintf(q, sizeof q, "status:open %s:%s", field, value);
    else if (strchr(value, ':'))
        snprintf(q, sizeof q, "status:open %s", value);
    else
        snprintf(q, sizeof q, "status:open host:%s", value);
    vg_case_query cq;
    vg_rc rc = vg_case_query_parse(q, "", &cq, err);
    if (rc)
        return rc;
    if (!cq.value) {
        vg_case_query_clear(&cq);
        return vg_fail(err, VG_EINVAL, "related: '%.64s' is not a value term (host:, user:, ip:,"
                                       " domain:, url:, email:, hash:, cve:, file:)", value);
    }
    cq.f.limit = 50;
    vg_case_list l = {0};
    if ((rc = vg_cases_list(ws, &cq.f, &l, err))) {
        vg_case_query_clear(&cq);
        return rc;
    }
    vg_buf b;
    vg_buf_init(&b, 1 << 16);
    vg_rc brc = vg_buf_addf(&b, "%s %s ", cq.value_type, cq.value);
    if (!l.n)
        brc = brc ? brc : vg_buf_adds(&b, "is on no open case");
    for (size_t i = 0; i < l.n && !brc; i++)
        brc = vg_buf_addf(&b, "%s#%lld", i ? ", " : "is on open cases ", (long long)l.items[i].ref);
    if (!brc && l.more)
        brc = vg_buf_adds(&b, " and more");
    *result = brc ? vg_xstrdup("related: the answer is too long") : vg_buf_take(&b);
    vg_buf_free(&b);
    vg_case_list_free(&l);
    vg_case_query_clear(&cq);
    return VG_OK;
}

/* The op that carries out a proposal; NULL with *result set for read-only ones. */
static char *playbook_library;

void cop_set_playbook_library(const char *dir)
{
    free(playbook_library);
    playbook_library = dir ? vg_xstrdup(dir) : NULL;
}

static vg_rc make_op(vg_ws *ws, const char *case_id, int action, const cJSON *p, vg_op **op,
                     char **result, vg_err *err)
{
    *op = NULL;
    const cJSON *v;
    switch (action) {
    case COP_ADD_ARTIFACT:
        *op = vg_op_artifact_add(case_id, cJSON_GetStringValue(cJSON_GetObjectItem(p, "type")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(p, "value")));
        cJSON_AddStringToObject((*op)->payload, "source", "copilot");
        cJSON_AddBoolToObject((*op)->payload, "is_ioc",
                              cJSON_IsTrue(cJSON_GetObjectItem(p, "is_ioc")));
        return VG_OK;
    case COP_ADD_NOTE:
        *op = vg_op_note_add(case_id, cJSON_GetStringValue(cJSON_GetObjectItem(p, "text")));
        return VG_OK;
    case COP_ADD_EVENT:
        v = cJSON_GetObjectItem(p, "occurred_at");
        *op = vg_op_event_add(case_id, cJSON_IsNumber(v) ? (int64_t)v->valuedouble : vg_now_ms(),
                              "copilot", cJSON_GetStringValue(cJSON_GetObjectItem(p, "summary")));
        return VG_OK;
    case COP_SET_SEVERITY:
        *op = vg_op_case_set(case_id, "severity",
                             cJSON_GetStringValue(cJSON_GetObjectItem(p, "severity")));
        return VG_OK;
    case COP_SET_STATUS: {
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(p, "status"));
        if (st && strcmp(st, "closed") == 0)
            *op = vg_op_case_close(case_id,
                                   cJSON_GetStringValue(cJSON_GetObjectItem(p, "resolution")));
        else
            *op = vg_op_case_set(case_id, "status", st);
        return VG_OK;
    }
    case COP_ASSIGN:
        *op = vg_op_case_set(case_id, "assignee",
                             cJSON_GetStringValue(cJSON_GetObjectItem(p, "assignee")));
        return VG_OK;
    case COP_APPLY_PLAYBOOK: {
        /* The same apply as `vigil playbook apply`: its task.add ops and the
         * playbook.apply record, inside this proposal's transaction. */
        vg_playbook pb;
        int added = 0, skipped = 0;
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(p, "playbook"));
        vg_rc rc = vg_playbook_find(ws, playbook_library, id, &pb, err);
        if (rc)
            return rc;
        rc = vg_playbook_apply(ws, case_id, &pb, &added, &skipped, err);
        if (rc == VG_OK) {
            size_t n = strlen(pb.id) + 96;
            *result = vg_xmalloc(n);
            snprintf(*result, n, "applied playbook %s: %d tasks added, %d already on the case",
                     pb.id, added, skipped);
        }
        vg_playbook_clear(&pb);
        return rc;
    }
    case COP_COMPLETE_TASK: {
        vg_task t = {0};
        const char *which = cJSON_GetStringValue(cJSON_GetObjectItem(p, "task"));
        vg_rc rc = vg_task_resolve(ws, case_id, which, &t, err);
        if (rc)
            return rc;
        *op = vg_op_task_set(case_id, t.id, "status", "done");
        vg_task_clear(&t);
        return VG_OK;
    }
    case COP_FIND_RELATED:
        return cop_related(ws, case_id, cJSON_GetStringValue(cJSON_GetObjectItem(p, "value")),
                           result, err);
    default:
        return vg_fail(err, VG_EINVAL, "no action %d", action);
    }
}

vg_rc cop_proposal_apply(vg_ws *ws, const char *user, const char *proposal_id, const cJSON *edited,
                         const char *by, char **result, vg_err *err)
{
    vg_ledger_entry prop = {0};
    cJSON *content = NULL, *params = NULL;
    vg_op *op = NULL;
    char *res = NULL;
    int state;
    if (result)
        *result = NULL;
    vg_rc rc = find_proposal(ws, user, proposal_id, &prop, err);
    if (rc)
        return rc;
    content = cJSON_Parse(prop.content);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(content, "type");
    int action = cJSON_IsString(type) ? vg_enum_parse(&COP_ACTIONS, type->valuestring) : -1;
    if (action < 0) {
        rc = vg_fail(err, VG_ECORRUPT, "proposal %.26s: its ledger entry is not a proposal",
                     proposal_id);
        goto out;
    }
    vg_id on;
    if ((rc = target_of(&prop, content, on, err)))
        goto out;
    /* An agent's note is its draft: the analyst's confirmation or edit makes it theirs. */
    if (action == COP_ADD_NOTE && !edited &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(content, "draft"))) {
        rc = vg_fail(err, VG_EINVAL,
                     "proposal %.26s is a note an agent drafted: it is applied in your words"
                     " (confirm or edit its text)",
                     proposal_id);
        goto out;
    }
    if ((rc = vg_batch_begin(ws, err)))
        goto out;
    if ((rc = state_of(ws, proposal_id, &state, err)))
        goto rollback;
    if (state != COP_PROPOSED) {
        rc = vg_fail(err, VG_EEXIST, "proposal %.26s is already %s", proposal_id,
                     state_names[state]);
        goto rollback;
    }
    /* the ops written from here on are this proposal's (the door says it is applied) */
    if ((rc = vg_proposal_begin(ws, proposal_id, err)))
        goto rollback;
    /* What is applied is the stored (checked) params, or the analyst's edit checked
     * again the same way; a note's text is the analyst's in either case. */
    const cJSON *stored = cJSON_GetObjectItemCaseSensitive(content, "params");
    if (edited) {
        const char *note = action == COP_ADD_NOTE
                               ? cJSON_GetStringValue(cJSON_GetObjectItem(edited, "text"))
                               : NULL;
        rc = cop_params_check(action, edited, note, &params, err);
    } else {
        const char *note = action == COP_ADD_NOTE
                               ? cJSON_GetStringValue(cJSON_GetObjectItem(stored, "text"))
                               : NULL;
        rc = cop_params_check(action, stored, note, &params, err);
    }
    vg_case before = {0};
    if (rc == VG_OK)
        rc = vg_case_get(ws, on, &before, err);
    if (rc == VG_OK)
        rc = make_op(ws, on, action, params, &op, &res, err);
    if (rc == VG_OK && op)
        rc = vg_apply(ws, op, err);
    vg_proposal_end(ws);
    if (rc != VG_OK) {
        vg_case_clear(&before);
        goto failed;
    }
    if (!res) {
        char *pv = cop_preview(action, params, &before);
        size_t n = strlen(pv) + 48;
        res = vg_xmalloc(n);
        if (prop.case_id[0]) /* a case's pane: the case is the one on screen */
            snprintf(res, n, "applied: %s", pv);
        else
            snprintf(res, n, "applied on #%lld: %s", (long long)before.ref, pv);
        free(pv);
    }
    vg_case_clear(&before);
    if ((rc = decide(ws, &prop, proposal_id, COP_APPLIED, edited ? "edited" : by,
                     op ? op->id : NULL, res, err)))
        goto rollback;
    if ((rc = vg_batch_commit(ws, err)))
        goto out;
    if (result) {
        *result = res;
        res = NULL;
    }
    goto out;

failed:
    /* Nothing of the write is kept; the failure is, in a transaction of its own. */
    vg_batch_rollback(ws);
    {
        vg_err e2 = {0};
        if (decide(ws, &prop, proposal_id, COP_FAILED, by, NULL, err->msg, &e2) != VG_OK)
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                     " (and recording it failed: %.200s)", e2.msg);
    }
    goto out;
rollback:
    vg_batch_rollback(ws);
out:
    vg_op_free(op);
    free(res);
    cJSON_Delete(params);
    cJSON_Delete(content);
    vg_ledger_clear(&prop);
    return rc;
}

vg_rc cop_proposal_cancel(vg_ws *ws, const char *user, const char *proposal_id, vg_err *err)
{
    vg_ledger_entry prop = {0};
    int state;
    vg_rc rc = find_proposal(ws, user, proposal_id, &prop, err);
    if (rc)
        return rc;
    if ((rc = vg_batch_begin(ws, err)) == VG_OK) {
        if ((rc = state_of(ws, proposal_id, &state, err)) == VG_OK && state != COP_PROPOSED)
            rc = vg_fail(err, VG_EEXIST, "proposal %.26s is already %s", proposal_id,
                         state_names[state]);
        if (rc == VG_OK)
            rc = decide(ws, &prop, proposal_id, COP_CANCELLED, "analyst", NULL, NULL, err);
        if (rc == VG_OK)
            rc = vg_batch_commit(ws, err);
        else
            vg_batch_rollback(ws);
    }
    vg_ledger_clear(&prop);
    return rc;
}

/* A string member of o, "" when absent. */
static const char *js(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return v ? v : "";
}

/* An MCP call's entry (src/mcp: {tool|resource|prompt, arguments, client,
 * result_bytes, flagged?, error?}, and no "question", which a model turn's prompt
 * entry always has) as "tool list_cases {...} -> 1234 bytes [flagged: ...] error:
 * ...", the arguments cut to about MCP_ARGS_CUT bytes; NULL when it is not one. */
#define MCP_ARGS_CUT 120
static char *mcp_call_summary(const vg_ledger_entry *e, const cJSON *o)
{
    static const char *const what[] = {"tool", "resource", "prompt"};
    if (e->kind != VG_LEDGER_PROMPT || cJSON_GetObjectItemCaseSensitive(o, "question"))
        return NULL;
    const char *kind = NULL, *name = NULL;
    for (size_t i = 0; i < sizeof what / sizeof *what && !name; i++)
        if ((name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, what[i]))))
            kind = what[i];
    if (!name)
        return NULL;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "arguments");
    char *args = a ? cJSON_PrintUnformatted(a) : NULL;
    size_t al = args ? strlen(args) : 0;
    bool cut = al > MCP_ARGS_CUT;
    if (cut) { /* at a character boundary */
        al = MCP_ARGS_CUT;
        while (al && ((unsigned char)args[al] & 0xc0) == 0x80)
            al--;
    }
    char bytes[48] = "";
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(o, "result_bytes");
    if (cJSON_IsNumber(rb))
        snprintf(bytes, sizeof bytes, " -> %.0f bytes", rb->valuedouble);
    const char *flagged = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "flagged"));
    const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "error"));
    size_t len = strlen(kind) + 100 + al + sizeof bytes + 100 + 200 + 40;
    char *out = vg_xmalloc(len);
    snprintf(out, len, "%s %.100s%s%.*s%s%s%s%.100s%s%s%.200s", kind, name, al ? " " : "",
             (int)al, args ? args : "", cut ? "..." : "", bytes, flagged ? " [flagged: " : "",
             flagged ? flagged : "", flagged ? "]" : "", error ? " error: " : "",
             error ? error : "");
    cJSON_free(args);
    return out;
}

char *cop_ledger_summary(const vg_ledger_entry *e)
{
    cJSON *o = cJSON_Parse(e->content);
    char *call = mcp_call_summary(e, o);
    if (call) {
        cJSON_Delete(o);
        return call;
    }
    static const char *const keys[] = {"question", "answer", "preview", "result", "error"};
    const char *what = NULL;
    for (size_t i = 0; i < 5 && !what; i++)
        what = cJSON_GetStringValue(cJSON_GetObjectItem(o, keys[i]));
    char head[160] = "";
    if (e->kind == VG_LEDGER_PROPOSAL)
        snprintf(head, sizeof head, "%.26s %.20s [%.8s]: ", js(o, "id"), js(o, "type"),
                 js(o, "mode"));
    else if (e->kind == VG_LEDGER_DECISION)
        snprintf(head, sizeof head, "%.26s %.12s by %.12s%s", js(o, "proposal"), js(o, "state"),
                 js(o, "by"), what ? ": " : "");
    else if (e->kind == VG_LEDGER_PROMPT && !cJSON_GetObjectItem(o, "question")) {
        /* an agent's call through vigil mcp: what it called and with what */
        static const char *const calls[] = {"tool", "resource", "prompt"};
        for (size_t i = 0; i < 3 && !head[0]; i++)
            if (*js(o, calls[i])) {
                char *args = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "arguments"));
                snprintf(head, sizeof head, "%s %.40s %.80s%s%s", calls[i], js(o, calls[i]),
                         args ? args : "{}", args && strlen(args) > 80 ? "..." : "",
                         what ? ": " : "");
                free(args);
            }
    }
    char tail[400] = "";
    size_t n = 0;
    const cJSON *bytes = cJSON_GetObjectItem(o, "result_bytes");
    if (cJSON_IsNumber(bytes))
        n += (size_t)snprintf(tail + n, sizeof tail - n, " (%.0f bytes)", bytes->valuedouble);
    const cJSON *lat = cJSON_GetObjectItem(o, "latency_ms");
    if (cJSON_IsNumber(lat))
        n += (size_t)snprintf(tail + n, sizeof tail - n, " (%.0f ms)", lat->valuedouble);
    if (*js(o, "flagged") && n < sizeof tail)
        n += (size_t)snprintf(tail + n, sizeof tail - n, " [flagged: %.100s]", js(o, "flagged"));
    if (*js(o, "left_out") && n < sizeof tail)
        snprintf(tail + n, sizeof tail - n, " [%.200s]", js(o, "left_out"));
    /* one line: the first line of what it says */
    const char *w = what ? what : "";
    size_t wl = strcspn(w, "\n");
    size_t len = strlen(head) + wl + strlen(tail) + 8;
    char *out = vg_xmalloc(len);
    snprintf(out, len, "%s%.*s%s%s", head, (int)wl, w, w[wl] ? " ..." : "", tail);
    cJSON_Delete(o);
    return out;
}
