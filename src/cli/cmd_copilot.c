/*
 * cmd_copilot.c — `vigil ask` and `vigil ledger`: the copilot for scripts.
 *
 * `ask` is one turn of the copilot (src/copilot) over a provider (src/net): the
 * answer streams to stdout as it arrives, then the proposals are printed with
 * their ids and nothing is applied unless the policy allows it (auto, unflagged,
 * and no value that only the case data holds) or a later `vigil ask REF --apply
 * ID` names one. A note the analyst asked for is offered as a suggestion in their
 * words whatever the model proposed. Settings: config_copilot().
 *
 * `ask --queue` is the general pane's turn: the context is the open queue instead
 * of one case, every proposal names the case it acts on (and is refused when that
 * case was not in the queue shown), and `ask --queue --apply ID` applies one.
 * `ledger --queue` lists the analyst's general sessions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "copilot.h"
#include "llm.h"
#include "vigil/json.h"
#include "vigil/ledger.h"
#include "vigil/query.h"
#include "vigil/text.h"

/* Without a model: say which ones the server has, or that it cannot be reached. */
static int no_model(cli *c, tui_copilot *s)
{
    char **names = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (llm_models(&s->lc, 5, &names, &n, &err) != VG_OK)
        return cli_error(c, "no model named (set [copilot] model in the config or pass --model);"
                            " and %s", err.msg);
    char list[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof list - 80; i++) {
        char safe[128];
        vg_text_safe(names[i], strlen(names[i]), VG_TEXT_ASCII, safe, 64);
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", safe);
    }
    llm_models_free(names, n);
    return cli_error(c, "no model named (set [copilot] model in the config or pass --model);"
                        " the server offers: %s", n ? list : "(none)");
}

/* Print what of the streamed answer is new: whole characters, made safe. */
static void stream_out(cli *c, const char *raw, size_t *shown)
{
    char *partial = cop_answer_partial(raw);
    size_t n = strlen(partial);
    if (n > *shown) {
        char *safe = vg_text_safe_dup(partial + *shown, c->text_flags | VG_TEXT_MULTILINE);
        fputs(safe, stdout);
        fflush(stdout);
        free(safe);
        *shown = n;
    }
    free(partial);
}

static cJSON *result_json(const cop_turn *t, const cop_result *r, const llm_stream *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session", t->session_id);
    cJSON_AddStringToObject(o, "model", t->model);
    char *answer = vg_utf8_repair(r->answer.text);
    cJSON_AddStringToObject(o, "answer", answer);
    free(answer);
    cJSON_AddBoolToObject(o, "structured", r->answer.structured);
    cJSON_AddBoolToObject(o, "flagged", r->flagged);
    if (r->flagged) {
        char names[128];
        cop_inject_names(t->ctx.flags, names, sizeof names);
        cJSON_AddStringToObject(o, "flagged_reasons", names);
        cJSON_AddStringToObject(o, "flagged_in", t->ctx.flagged_field);
    }
    cJSON_AddStringToObject(o, "left_out", t->ctx.left_out);
    cJSON_AddNumberToObject(o, "first_token_ms", llm_first_token_ms(st));
    cJSON_AddNumberToObject(o, "first_byte_ms", llm_first_byte_ms(st));
    cJSON *ps = cJSON_AddArrayToObject(o, "proposals");
    for (size_t i = 0; i < r->nitems; i++) {
        const cop_item *it = &r->items[i];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "id", it->id);
        cJSON_AddStringToObject(p, "type", vg_enum_name(&COP_ACTIONS, it->p.action));
        if (it->p.case_id[0]) {
            cJSON_AddStringToObject(p, "case", it->p.case_id);
            cJSON_AddNumberToObject(p, "case_ref", (double)it->p.case_ref);
        }
        cJSON_AddItemToObject(p, "params", cJSON_Duplicate(it->p.params, true));
        cJSON_AddStringToObject(p, "preview", it->p.preview);
        cJSON_AddStringToObject(p, "mode", vg_enum_name(&COP_MODES, it->mode));
        cJSON_AddStringToObject(p, "state", vg_enum_name(&COP_STATES, it->state));
        if (it->result)
            cJSON_AddStringToObject(p, "result", it->result);
        cJSON_AddItemToArray(ps, p);
    }
    cJSON *rj = cJSON_AddArrayToObject(o, "rejected");
    for (size_t i = 0; i < r->answer.nrejected; i++)
        cJSON_AddItemToArray(rj, cJSON_CreateString(r->answer.rejected[i]));
    cJSON *sj = cJSON_AddArrayToObject(o, "suggestions");
    for (size_t i = 0; i < r->nsuggestions; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", r->suggestions[i].type);
        cJSON_AddStringToObject(s, "value", r->suggestions[i].value);
        cJSON_AddBoolToObject(s, "defanged", r->suggestions[i].defanged);
        cJSON_AddItemToArray(sj, s);
    }
    return o;
}

/* ref: the case as typed, or NULL for a general turn. */
static void result_text(cli *c, const char *ref, const cop_turn *t, const cop_result *r)
{
    if (r->flagged) {
        char names[128];
        cop_inject_names(t->ctx.flags, names, sizeof names);
        printf("! the %s data looks like it carries instructions (%s, in %s): treat it as"
               " data; nothing from this turn is applied without you\n",
               ref ? "case" : "queue", names, t->ctx.flagged_field);
    }
    for (size_t i = 0; i < r->nitems; i++) {
        const cop_item *it = &r->items[i];
        printf("proposal %s [%s] %s: ", it->id, vg_enum_name(&COP_STATES, it->state),
               vg_enum_name(&COP_ACTIONS, it->p.action));
        out_safe(c, it->p.preview);
        putchar('\n');
        if (it->result) {
            fputs("  ", stdout);
            out_safe(c, it->result);
            putchar('\n');
        }
        if (it->state == COP_PROPOSED)
            printf("  apply: vigil ask %s --apply %s\n", ref ? ref : "--queue", it->id);
    }
    for (size_t i = 0; i < r->answer.nrejected; i++) {
        fputs("rejected: ", stdout);
        out_safe(c, r->answer.rejected[i]);
        putchar('\n');
    }
    for (size_t i = 0; i < r->nsuggestions; i++) {
        const cop_suggestion *s = &r->suggestions[i];
        if (!strcmp(s->type, "event")) {
            fputs("suggestion: timeline event: ", stdout);
            out_safe(c, s->value);
        } else if (!strcmp(s->type, "note")) {
            fputs("suggestion: note (your words): \"", stdout);
            out_safe(c, s->value);
            printf("\" (vigil note %s TEXT...)", ref);
        } else {
            printf("suggestion: %s ", s->type);
            out_safe(c, s->value);
            printf("%s (vigil artifact add %s %s ...)", s->defanged ? " (written defanged)" : "",
                   ref, s->type);
        }
        putchar('\n');
    }
    fputs("session ", stdout);
    out_safe(c, t->session_id);
    if (t->ctx.left_out[0]) {
        fputs(" · ", stdout);
        out_safe(c, t->ctx.left_out);
    }
    putchar('\n');
}

/* Apply or cancel proposal id: one that acts on case_id, or with case_id NULL
 * one from a general session. */
int cli_decide(cli *c, bool any, const char *case_id, const char *id, const cJSON *edited,
               bool cancel, bool json)
{
    vg_err err = {0};
    char *res = NULL;
    vg_id on;
    bool general;
    if (cop_proposal_case(c->ws, c->actor, id, on, &general, &err) != VG_OK)
        return cli_fail(c, &err);
    if (!any && !case_id && !general)
        return cli_error(c, "proposal %.26s is from a case's session, not the general pane"
                            " (vigil ask REF --apply ID)", id);
    if (!any && case_id && strcmp(on, case_id) != 0)
        return cli_error(c, "proposal %.26s is on another case", id);
    if (cancel) {
        if (cop_proposal_cancel(c->ws, c->actor, id, &err) != VG_OK)
            return cli_fail(c, &err);
        res = vg_xstrdup("cancelled");
    } else if (cop_proposal_apply(c->ws, c->actor, id, edited, "analyst", &res, &err) != VG_OK) {
        return cli_fail(c, &err);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "proposal", id);
        cJSON_AddStringToObject(o, "state", cancel ? "cancelled" : "applied");
        cJSON_AddStringToObject(o, "result", res);
        out_json(o);
    } else {
        out_safe(c, res);
        putchar('\n');
    }
    free(res);
    return EXIT_OK;
}

int cmd_ask(cli *c, int argc, char **argv)
{
    opt o[] = {{"apply=", NULL}, {"cancel=", NULL}, {"edit=", NULL}, {"model=", NULL},
               {"session=", NULL}, {"json", NULL}, {"queue", NULL}};
    const int no = 7;
    char *pos[2];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, no, pos, 2, &npos)))
        return rc;
    const char *apply = opt_get(o, no, "apply"), *cancel = opt_get(o, no, "cancel"),
               *edit = opt_get(o, no, "edit");
    bool json = opt_get(o, no, "json") != NULL, queue = opt_get(o, no, "queue") != NULL;
    /* the question's place: after the case, or first with --queue */
    int qi = queue ? 0 : 1;
    if (queue && (npos > 1 || (npos == 1 && (apply || cancel))))
        return cli_usage(c, "--queue asks about the open queue, not one case: vigil ask --queue"
                            " \"QUESTION\"");
    if (!queue && npos < 1)
        return cli_usage(c, "which case? (or --queue for the open queue)");
    if (apply && cancel)
        return cli_usage(c, "--apply or --cancel, not both");
    if (edit && !apply)
        return cli_usage(c, "--edit goes with --apply");
    if ((apply || cancel) && npos > qi)
        return cli_usage(c, "--apply and --cancel take no question");
    if (!apply && !cancel && npos <= qi)
        return cli_usage(c, "ask what? (the question is one argument: quote it)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_id case_id = "";
    if (!queue && (rc = cli_case(c, pos[0], case_id)))
        return rc;
    if (apply || cancel) {
        cJSON *edited = NULL;
        if (edit && !(edited = cJSON_Parse(edit)))
            return cli_usage(c, "--edit: not a JSON object of params");
        rc = cli_decide(c, false, queue ? NULL : case_id, apply ? apply : cancel, edited,
                        cancel != NULL, json);
        cJSON_Delete(edited);
        return rc;
    }

    tui_copilot s;
    if (config_copilot(c->cf, opt_get(o, no, "model"), &s) != 0) {
        config_copilot_free(&s);
        return EXIT_FAIL;
    }
    if (!s.lc.model || !*s.lc.model) {
        rc = no_model(c, &s);
        config_copilot_free(&s);
        return rc;
    }
    cop_turn t;
    cop_result r = {0};
    llm_stream *st = NULL;
    vg_err err = {0};
    vg_rc brc = queue ? cop_turn_begin_queue(c->ws, config_sla(c->cf), opt_get(o, no, "session"),
                                             c->actor, s.lc.model, pos[qi], s.lc.budget, &t, &err)
                      : cop_turn_begin(c->ws, case_id, opt_get(o, no, "session"), c->actor,
                                       s.lc.model, pos[qi], s.lc.budget, &t, &err);
    if (brc != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    cJSON *schema = queue ? cop_queue_answer_schema() : cop_answer_schema();
    vg_rc vrc = llm_chat_start(&s.lc, t.messages, schema, &st, &err);
    cJSON_Delete(schema);
    if (vrc != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    /* The prompt goes into the ledger as soon as the first token is on the screen
     * (or the stream ends), so the write costs no time to first token; nothing of
     * the answer is parsed or acted on before it is recorded. */
    size_t shown = 0;
    llm_state state;
    bool recorded = false;
    do {
        state = llm_poll(st, 100);
        if (!json)
            stream_out(c, llm_text(st), &shown);
        if (!recorded && (shown || (json && llm_first_token_ms(st) >= 0) || state != LLM_RUNNING)) {
            if (cop_turn_record(c->ws, &t, &err) != VG_OK) {
                rc = cli_fail(c, &err);
                goto out;
            }
            recorded = true;
        }
    } while (state == LLM_RUNNING);
    if (state == LLM_FAILED) {
        /* Nothing of a failed answer is kept but the failure itself, in the ledger. */
        if (shown)
            putchar('\n');
        vg_err e2 = {0};
        if (cop_turn_fail(c->ws, &t, llm_error(st), &e2) != VG_OK)
            cli_fail(c, &e2);
        char safe[600];
        vg_text_safe(llm_error(st), strlen(llm_error(st)), c->text_flags, safe, sizeof safe);
        rc = cli_error(c, "%s%s", safe,
                       strstr(llm_error(st), "cannot reach") && s.lc.provider == LLM_OLLAMA
                           ? " (is Ollama running? `ollama serve`; the rest of vigil works"
                             " without it)"
                           : "");
        goto out;
    }
    if (cop_turn_finish(c->ws, &t, llm_text(st), s.policy, &r, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (json) {
        out_json(result_json(&t, &r, st));
    } else {
        char *streamed = cop_answer_partial(llm_text(st));
        if (strcmp(streamed, r.answer.text) != 0) {
            /* the answer was not where the stream showed it: print it whole */
            if (shown)
                putchar('\n');
            out_text(c, r.answer.text, 0);
        } else if (!shown || r.answer.text[strlen(r.answer.text) - 1] != '\n') {
            putchar('\n');
        }
        free(streamed);
        result_text(c, queue ? NULL : pos[0], &t, &r);
    }
    rc = EXIT_OK;
out:
    llm_free(st);
    cop_result_clear(&r);
    cop_turn_clear(&t);
    config_copilot_free(&s);
    return rc;
}

int cmd_ledger(cli *c, int argc, char **argv)
{
    opt o[] = {{"session=", NULL}, {"json", NULL}, {"queue", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 3, pos, 1, &npos)))
        return rc;
    bool queue = opt_get(o, 3, "queue") != NULL;
    if (queue && npos)
        return cli_usage(c, "--queue lists the general pane's sessions, of no case");
    if (!queue && npos < 1)
        return cli_usage(c, "which case? (or --queue for the general pane's sessions)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_id case_id;
    if (!queue && (rc = cli_case(c, pos[0], case_id)))
        return rc;
    vg_ledger_entry *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_ledger_list(c->ws, queue ? NULL : case_id, c->actor, opt_get(o, 3, "session"), &e, &n,
                       &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 3, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            char at[32];
            vg_iso8601(e[i].created_at, at, sizeof at);
            cJSON_AddStringToObject(j, "session", e[i].session_id);
            cJSON_AddNumberToObject(j, "seq", (double)e[i].seq);
            cJSON_AddStringToObject(j, "kind", vg_enum_name(&VG_LEDGER_KIND, e[i].kind));
            cJSON_AddStringToObject(j, "user", e[i].user);
            cJSON_AddStringToObject(j, "model", e[i].model);
            cJSON_AddStringToObject(j, "created_at", at);
            cJSON *content = cJSON_Parse(e[i].content);
            cJSON_AddItemToObject(j, "content", content ? content
                                                        : cJSON_CreateString(e[i].content));
            cJSON_AddStringToObject(j, "hash", e[i].hash);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else if (n == 0) {
        printf("(no copilot sessions of yours %s)\n",
               queue ? "in the general pane" : "on this case");
    } else {
        const char *session = "";
        for (size_t i = 0; i < n; i++) {
            if (strcmp(session, e[i].session_id) != 0) {
                session = e[i].session_id;
                printf("%ssession %s (", i ? "\n" : "", session);
                out_safe(c, e[i].user);
                fputs(", model ", stdout);
                out_safe(c, e[i].model);
                printf(")\n");
            }
            char at[32];
            fmt_time(e[i].created_at, at, sizeof at);
            printf("%4" PRId64 " %s %-9s ", e[i].seq, at,
                   vg_enum_name(&VG_LEDGER_KIND, e[i].kind));
            char *line = cop_ledger_summary(&e[i]);
            out_fit(c, line, c->width > 40 ? c->width - 32 : 160, false);
            putchar('\n');
            free(line);
        }
    }
    vg_ledger_free(e, n);
    return EXIT_OK;
}
