/*
 * copilot.c — what the copilot does with a model's reply (src/copilot/
 * proposal.c, turn.c): the answer parser, the closed set of actions and their
 * schema, previews, the ledger's summaries, and a whole turn finished on a case
 * with the policy at `auto` where it may be, so accepted proposals go through the
 * door. A model's reply is attacker-reachable text (prompt injection), so it is
 * the input.
 *
 * Properties: every proposal taken is of the closed set, its params are what
 * cop_params_check makes of them (checking again changes nothing) and it has a
 * preview; every rejection says why; a general pane's proposal names a case that
 * was in its context; the streamed partial answer never fails; a finished turn (of
 * a reply with proposals) writes without a workspace error, every auto proposal
 * applied or failed, never left proposed; the op log still verifies.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "copilot.h"
#include "fuzz.h"
#include "vigil/op.h"
#include "vigil/query.h"

static const char NOTE[] = "the user clicked the link on their phone";
static vg_ws *ws;
static vg_id case_id;
static unsigned runs;
static cop_policy policy;

/* A workspace with one case, fresh every 500 inputs so it stays small. */
static void fresh(void)
{
    fz_workspace_drop(ws);
    ws = fz_workspace();
    vg_op *op = vg_op_case_create("Phishing: invoice.pdf.exe from 203.0.113.7", "high", "d");
    memcpy(case_id, op->target, sizeof case_id);
    vg_err err = {0};
    fz_check(vg_apply(ws, op, &err) == VG_OK, "%s", err.msg);
    vg_op_free(op);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cop_policy_default(&policy);
    vg_err err = {0};
    static const char *const autos[] = {"add_artifact", "add_event", "find_related"};
    for (int i = 0; i < 3; i++)
        fz_check(cop_policy_set(&policy, autos[i], "auto", &err) == VG_OK, "%s", err.msg);
    return 0;
}

static void check_answer(const cop_answer *a, const char *note, const cop_context *queue)
{
    fz_check(a->text != NULL, "no answer text");
    for (size_t i = 0; i < a->nrejected; i++)
        fz_check(a->rejected[i][0], "an empty rejection");
    for (size_t i = 0; i < a->nprops; i++) {
        const cop_proposal *p = &a->props[i];
        fz_check(p->action >= 0 && p->action < COP__NACTIONS, "action %d taken", p->action);
        fz_check(p->params && p->preview, "a proposal without params or preview");
        cJSON *again = NULL;
        vg_err err = {0};
        fz_check(cop_params_check(p->action, p->params, note, &again, &err) == VG_OK,
                 "taken params fail a second check: %s", err.msg);
        fz_check(fz_same(again, p->params), "checking the params again changed them");
        cJSON_Delete(again);
        if (queue)
            fz_check(cop_queue_find(queue, p->case_ref) != NULL, "a proposal for #%lld, not shown",
                     (long long)p->case_ref);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ws || ++runs % 500 == 0)
        fresh();
    char *reply = fz_cstr(data, size);
    vg_err err = {0};
    vg_case c = {0};
    fz_check(vg_case_get(ws, case_id, &c, &err) == VG_OK, "%s", err.msg);
    size_t taken = 0;
    for (int n = 0; n < 2; n++) {
        const char *note = n ? NOTE : NULL;
        cop_answer a;
        cop_answer_parse(reply, note, &c, &a);
        check_answer(&a, note, NULL);
        taken = a.nprops;
        cop_answer_clear(&a);
    }
    vg_case_clear(&c);

    /* the general pane: a queue of two cases, #1 and #7 */
    cop_queue_case qc[2] = {{.ref = 1, .severity = 3, .status = 0, .title = "one"},
                            {.ref = 7, .severity = 1, .status = 1, .title = "seven"}};
    memcpy(qc[0].id, case_id, sizeof qc[0].id);
    memcpy(qc[1].id, "01J9ZZZZZZZZZZZZZZZZZZZZZZ", sizeof qc[1].id);
    cop_context q = {.queue = true, .cases = qc, .ncases = 2, .cases_in = 2, .cases_total = 2};
    cop_answer a;
    cop_answer_parse_queue(reply, NOTE, &q, &a);
    check_answer(&a, NOTE, &q);
    cop_answer_clear(&a);

    /* the answer as it streams in: every prefix of the first 64 bytes, and the whole */
    for (size_t cut = 0; cut <= size && cut < 64; cut++) {
        char *part = fz_cstr(data, cut);
        free(cop_answer_partial(part));
        free(part);
    }
    free(cop_answer_partial(reply));

    for (int kind = 0; kind < 5; kind++) {
        vg_ledger_entry e = {.kind = kind, .user = "fuzz", .model = "m", .content = reply};
        free(cop_ledger_summary(&e));
    }

    /* A whole turn, for a reply with proposals to apply (a turn costs a hundred
     * times the parse: the context, the ledger, the door). */
    if (!taken) {
        free(reply);
        return 0;
    }
    cop_turn t;
    fz_check(cop_turn_begin(ws, case_id, NULL, "fuzz", "m", "What happened? add a note: "
                            "the user clicked the link on their phone", 4096, &t, &err) == VG_OK,
             "%s", err.msg);
    fz_check(cop_turn_record(ws, &t, &err) == VG_OK, "%s", err.msg);
    cop_result r;
    vg_rc rc = cop_turn_finish(ws, &t, reply, &policy, &r, &err);
    fz_check(rc != VG_EDB && rc != VG_EIO, "finishing the turn: %s", err.msg);
    for (size_t i = 0; rc == VG_OK && i < r.nitems; i++)
        if (r.items[i].mode == COP_AUTO)
            fz_check(r.items[i].state == COP_APPLIED || r.items[i].state == COP_FAILED,
                     "an auto proposal left %d", r.items[i].state);
    cop_result_clear(&r);
    cop_turn_clear(&t);
    if (runs % 100 == 0) {
        int64_t count = 0, bad = 0;
        fz_check(vg_audit_verify(ws, NULL, &count, &bad, &err) == VG_OK, "audit: %s", err.msg);
    }
    free(reply);
    return 0;
}
