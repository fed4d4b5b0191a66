/*
 * llm.h — talking to a language model: Ollama's /api/chat and any OpenAI-compatible
 * /v1/chat/completions, streamed, over libcurl's multi interface so the caller
 * never waits (DESIGN.md rule 4): start a request, then call llm_poll from the
 * event loop (the TUI with a 0 ms wait each frame, the CLI with a longer one) and
 * read the text that has arrived.
 *
 * Everything from the server is capped: the whole reply (max_bytes), each stream
 * line, and the error body. A server that streams forever, sends too much, sends a
 * line that is not JSON, stops sending (stall), or closes before the end of the
 * answer ends the request with a clear message and LLM_FAILED; the caller writes
 * nothing from a failed request.
 */
#ifndef VIGIL_LLM_H
#define VIGIL_LLM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"

typedef enum { LLM_OLLAMA, LLM_OPENAI } llm_provider;

#define LLM_OLLAMA_URL "http://127.0.0.1:11434"
#define LLM_OPENAI_URL "https://api.openai.com/v1"

typedef struct llm_config {
    llm_provider provider;
    const char *url;       /* Ollama: http://host:port; OpenAI: the base with /v1 */
    const char *model;
    const char *api_key;   /* OpenAI-compatible only; NULL for none */
    long timeout_s;        /* the whole answer; also bounds a stall */
    long stall_s;          /* no byte for this long is a stall (0: min(timeout, 30)) */
    size_t budget;         /* context window in tokens: Ollama's options.num_ctx */
    size_t max_bytes;      /* cap on the reply (0: 8 MB) */
    const char *keep_alive; /* Ollama: how long the model stays loaded (NULL: "10m") */
} llm_config;

/* "ollama" / "openai" (also "openai-compatible"), or -1. */
int llm_provider_parse(const char *name);
const char *llm_provider_name(llm_provider p);
/* OLLAMA_HOST's forms ("host", "host:port", "http://host:port/") as a base URL. Fresh. */
char *llm_ollama_url(const char *host);

typedef struct llm_stream llm_stream;
typedef enum { LLM_RUNNING, LLM_DONE, LLM_FAILED } llm_state;

/* Start a chat request with messages ([{role, content}]); schema, when not NULL, is
 * the JSON schema of a structured answer (Ollama's format, OpenAI's
 * response_format). The caller frees *out with llm_free (which cancels). */
VG_WUR vg_rc llm_chat_start(const llm_config *cf, const cJSON *messages, const cJSON *schema,
                            llm_stream **out, vg_err *err);
/* Make progress, waiting at most wait_ms for the network. */
llm_state llm_poll(llm_stream *s, int wait_ms);
/* The answer's text so far (NUL-terminated), and how much of it is new since the
 * last call to llm_take_new. */
const char *llm_text(const llm_stream *s);
size_t llm_take_new(llm_stream *s, const char **from);
/* Why it failed ("" while running or done). */
const char *llm_error(const llm_stream *s);
/* Milliseconds from start to the first token of the answer, and to the first byte
 * of the response (-1: none yet). */
double llm_first_token_ms(const llm_stream *s);
double llm_first_byte_ms(const llm_stream *s);
void llm_free(llm_stream *s);

/* The models the server offers (Ollama /api/tags, OpenAI /models): the health
 * probe. Waits at most timeout_s. *names is an array of fresh strings. */
VG_WUR vg_rc llm_models(const llm_config *cf, long timeout_s, char ***names, size_t *n,
                        vg_err *err);
void llm_models_free(char **names, size_t n);

/* Whether libcurl could be loaded (it is loaded on first use, curl_lazy.c). */
bool llm_curl_available(void);
/* Start loading libcurl on a thread of its own, so that a request about to be made
 * finds it loaded: the workstation calls it when a copilot pane opens, and the key
 * that asks no longer waits 5-10 ms for twenty-five libraries to be mapped. A
 * request made sooner waits for the load. Only the first call does anything; call
 * it from the main thread. */
void llm_preload(void);

#endif
