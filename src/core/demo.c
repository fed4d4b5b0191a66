/*
 * demo.c — a demo workspace that looks like a real SOC's month (contract in demo.h).
 *
 * What it writes. The first 48 cases are hand-made stories placed on the calendar of
 * the 30 days before now_ms: a DocuSign-themed phishing wave whose six cases share one
 * sender domain and one credential-harvesting URL, password spraying against the VPN
 * and Microsoft 365 and the account it broke, a Cobalt Strike beacon that deletes
 * shadow copies, impossible travel, a C2 beacon to a rare domain, a leaver's bulk
 * SharePoint download, a web shell, Kerberoasting, MFA fatigue, and the quiet false
 * positives every SOC closes (the vulnerability scanner, the admin's encoded
 * PowerShell, EICAR). Indicators shared across them (campaign domain and URL, spray
 * IPs, a C2 domain seen on three hosts, a user in two stories) are the bridges of the
 * investigation graph. Cases beyond those vary the same scenario templates (hosts,
 * users, IPs, campaigns, severity, status by age) and are leaner, as a real month's
 * bulk is: a false positive is closed with a note and no playbook, a true positive
 * gets one task per phase. Alerts are shared out by scenario weight; 15% stay out of
 * cases as the inbox noise an analyst triages, some of it dismissed.
 *
 * How. Everything goes through vg_apply as stamped ops: ids from vg_ulid_seeded,
 * clocks at the simulated time each action was recorded, one demo replica id derived
 * from the seed, actors being the analysts (alice, bob, chen, dana the lead, emeka)
 * or "vigil-demo" for automation. The op log is therefore exactly what the work would
 * have left, and every derived field (acknowledged_at, closed_at, timeline text) comes
 * from the one door. Alerts take the ingest path every importer takes: alert.import
 * ops of many alerts each (at most IMPORT_MAX), whose clock is the time all of them
 * are recorded at, as a SIEM connector pulling once a PULL_MS window (an hour) would
 * bring them. A case's alerts recorded in one window and between the same two of its
 * actions share an op, recorded when the last of them was and after the case's
 * previous op, so a case's ops keep rising clocks in log order; the alerts that raise
 * a case are one op before its create. The inbox noise of each window is one op: it
 * is held and sorted until no case still to be written can add to that window (about
 * twelve hours of noise in memory), then written with its dismissals after it. The
 * analysts' artifacts stay artifact.add ops rather than the door's `artifacts: true`:
 * they are the analyst's pick from the scenario (a domain or a subject line no alert
 * entity carries, and not every entity of every alert), an IOC by the case's verdict
 * (nothing on a false positive is one) rather than by type, seen at the case's first
 * alert, and added by the analyst at triage. Transactions hold about BATCH_ROWS rows,
 * an alert counting as one, and the build runs in vg_ws_bulk mode as imports do.
 *
 * Trade-offs. Ops are written case by case, not in global time order: a case's ops
 * are causally ordered, their clocks rise strictly from its create, and its alerts are
 * interleaved with its actions by time, but two cases interleave only by case. A global
 * sort would need the whole month in memory (gigabytes at a million alerts), and
 * nothing depends on the log being time-sorted across entities. It also bounds how
 * large a case's alert.import can be: a case's alerts are spread over its life between
 * a dozen actions, so at the bench's ten alerts a case most of its ops hold one or
 * two alerts, while the inbox's hold hundreds at a million alerts. Randomness is a
 * splitmix64 stream per case seeded from (seed, case index), so the plan of case i
 * (scenario, status, alert weight) is computed twice, once to share out the alert
 * budget and once to write, instead of being stored. Alert payloads are built straight
 * into cJSON from stack buffers: no other allocation and no SQL of our own per alert.
 * The build's speed is the door's. Measured on a shared 2-core machine against the
 * sqlite3 shell's bulk INSERT of as many alert rows (tests/bench/run's reference):
 * 100,000 alerts on 10,000 cases, 11,700-12,400 alerts/s (0.10x), where one alert.add
 * an alert did 8,000-10,300 (0.07-0.09x); the bench's million on 100,000 cases, 5,300
 * alerts/s in 188 s (0.07x) against 4,600 in 216 s (0.06x). Most of the time is the
 * cases' own ops (about 13 a case, some 25 us each in the door: the timeline row, FTS,
 * indexes and the op log), and an alert in a large alert.import still costs about 25 us
 * (its row, FTS, entity keys, the payload printed and compressed), so the demo alone
 * cannot reach half the reference's rate.
 */
#include "vigil/demo.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/query.h"

#define SEC_MS 1000LL
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define MONTH_MS (30 * DAY_MS)

/* A transaction holds about this many rows: an op counts one, an alert.import one
 * per alert in it (its work is its alerts'). Measured at 100,000 alerts, 10,000 to
 * 100,000 rows a transaction build equally fast; fewer leave the per-commit work
 * (FTS, entity keys) visible, more only hold more in memory. */
#define BATCH_ROWS 10000
#define IMPORT_MAX 256 /* alerts in one alert.import (as the door makes them locally) */
#define INBOX_PERCENT 15
#define NOISE_SPREAD (6 * HOUR_MS) /* inbox noise lies this far around a case's start */
/* Alerts recorded in one such clock window share an alert.import, as an hourly pull
 * by a SIEM connector would bring them (a wider window measured no faster: the ops
 * of the cases' own work dominate). */
#define PULL_MS HOUR_MS

/* ---- seeded randomness --------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

/* The splitmix64 finaliser: a bijection on 64 bits, so distinct inputs (alert
 * counters) give distinct outputs (source refs that look random). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd(rng *r)
{
    return mix64(r->s += 0x9e3779b97f4a7c15ULL);
}

/* Uniform in [lo, hi] (hi >= lo). */
static int64_t rr(rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo + 1));
}

static bool chance(rng *r, int percent)
{
    return (int)(rnd(r) % 100) < percent;
}

/* ---- template variables ---------------------------------------------------------- */

/* Text in the tables below names these as {host}, {user}, ... */
enum {
    V_NONE, V_HOST, V_USER, V_UID, V_IP, V_IP2, V_LIP, V_DOM, V_URL, V_SENDER, V_HASH,
    V_FILE, V_CITY, V_CITY2, V_SITE, V_APP, V_ACCT, V_N, V_N2, V_DUP, V_TICKET, V_TAG,
    V_AUSER, V_AN, V_T0, V_T1, V__COUNT
};
static const char *const VAR_NAMES[V__COUNT] = {
    "", "host", "user", "uid", "ip", "ip2", "lip", "dom", "url", "sender", "hash",
    "file", "city", "city2", "site", "app", "acct", "n", "n2", "dup", "ticket", "tag",
    "auser", "an", "t0", "t1",
};

typedef struct vars {
    char v[V__COUNT][128];
} vars;

static void vset(vars *vs, int i, const char *s)
{
    size_t n = strlen(s);
    if (n >= sizeof vs->v[i])
        n = sizeof vs->v[i] - 1;
    memcpy(vs->v[i], s, n);
    vs->v[i][n] = '\0';
}

static int var_index(const char *name, size_t len)
{
    for (int i = 1; i < V__COUNT; i++)
        if (strlen(VAR_NAMES[i]) == len && memcmp(VAR_NAMES[i], name, len) == 0)
            return i;
    return -1;
}

/* Copy tpl into out (size n, always terminated), replacing {name} by its variable.
 * Unknown names are copied as written, so a literal brace stays a brace. */
static void expand(const char *tpl, const vars *vs, char *out, size_t n)
{
    size_t o = 0;
    while (*tpl && o + 1 < n) {
        const char *close;
        int vi;
        if (*tpl == '{' && (close = strchr(tpl + 1, '}')) != NULL &&
            (vi = var_index(tpl + 1, (size_t)(close - tpl - 1))) > 0) {
            const char *s = vs->v[vi];
            size_t l = strlen(s);
            if (l > n - 1 - o)
                l = n - 1 - o;
            memcpy(out + o, s, l);
            o += l;
            tpl = close + 1;
            continue;
        }
        out[o++] = *tpl++;
    }
    out[o] = '\0';
}

/* Apply "key=value;key=value" to vs (a value runs to the next ';'). */
static void apply_spec(vars *vs, const char *spec)
{
    while (spec && *spec) {
        size_t len = strcspn(spec, ";");
        const char *eq = memchr(spec, '=', len);
        if (eq) {
            int vi = var_index(spec, (size_t)(eq - spec));
            if (vi > 0) {
                size_t vl = len - (size_t)(eq + 1 - spec);
                if (vl >= sizeof vs->v[vi])
                    vl = sizeof vs->v[vi] - 1;
                memcpy(vs->v[vi], eq + 1, vl);
                vs->v[vi][vl] = '\0';
            }
        }
        spec += len + (spec[len] == ';');
    }
}

/* ---- people, places and things ---------------------------------------------------- */

static const char *const TEAM[] = {"alice", "bob", "chen", "dana", "emeka"};
#define LEAD "dana"
#define NTEAM 5

static const char *const FIRST_INITIALS = "abcdefghijklmnoprstvwy";
static const char *const LAST_NAMES[] = {
    "smith", "okafor", "garcia", "ortiz", "tanaka", "dubois", "nguyen", "berg", "keller",
    "ivanova", "osei", "rossi", "haddad", "petrov", "mendes", "sato", "kowalski", "lindqvist",
    "fischer", "yilmaz", "ahmed", "novak", "costa", "bauer", "nakamura", "alvarez", "kim",
    "mensah", "schmidt", "oconnor", "papadopoulos", "silva", "jensen", "wojcik", "hughes",
    "murphy", "chowdhury", "eriksson", "moreau", "adeyemi", "santos", "kaur", "becker",
    "lopez", "walsh", "horvat", "dimitrov", "ali", "park", "vargas", "brown", "wright",
    "nowak", "rahman", "ibrahim", "tran", "meyer", "russo", "kovacs", "andersen",
};
#define NLAST (sizeof LAST_NAMES / sizeof *LAST_NAMES)

static const char *const DEPT_HOSTS[] = {"FIN-WS", "HR-LT", "SALES-LT", "ENG-WS", "LEG-WS",
                                         "MKT-LT", "OPS-WS", "IT-WS"};
#define NDEPT (sizeof DEPT_HOSTS / sizeof *DEPT_HOSTS)

static const char *const CITY_PAIRS[][2] = {
    {"Lagos", "Frankfurt"},       {"S\xc3\xa3o Paulo", "Dublin"}, {"Singapore", "London"},
    {"Bucharest", "Madrid"},      {"Ho Chi Minh City", "Paris"},  {"Toronto", "Amsterdam"},
    {"Johannesburg", "Stockholm"}, {"Manila", "Zurich"},
};
#define NCITY (sizeof CITY_PAIRS / sizeof *CITY_PAIRS)

static const char *const SITES[] = {"Finance-Forecasts", "HR-Confidential", "Sales-Playbooks",
                                    "Engineering-Designs", "Legal-Contracts", "MA-Pipeline-2025"};
#define NSITE (sizeof SITES / sizeof *SITES)

/* Lookalike parts for phishing campaigns and C2 infrastructure beyond the pools. */
static const char *const BRANDS[] = {"micros0ft", "d0cusign", "paypa1", "dropb0x", "0ffice365",
                                     "adobe-sign", "we-transfer", "sharepoint-docs"};
static const char *const LURE_WORDS[] = {"login", "secure", "notify", "billing",
                                         "verify", "account", "docs", "portal"};
static const char *const C2_A[] = {"cdn", "telemetry", "status", "update",
                                   "metrics", "sync", "api", "edge"};
static const char *const C2_B[] = {"check", "cloud", "node", "stats", "relay", "service"};
#define NELEM(a) (sizeof(a) / sizeof *(a))

static void rand_user(rng *r, char *out, size_t n)
{
    size_t ni = strlen(FIRST_INITIALS);
    snprintf(out, n, "%c.%s@corp.example", FIRST_INITIALS[rnd(r) % ni],
             LAST_NAMES[rnd(r) % NLAST]);
}

static void rand_ext_ip(rng *r, char *out, size_t n)
{
    static const char *const nets[] = {"192.0.2", "198.51.100", "203.0.113"};
    snprintf(out, n, "%s.%d", nets[rnd(r) % 3], (int)rr(r, 2, 254));
}

static void rand_lip(rng *r, char *out, size_t n)
{
    snprintf(out, n, "10.%d.%d.%d", (int)rr(r, 10, 40), (int)rr(r, 1, 60), (int)rr(r, 2, 250));
}

static void rand_hex(rng *r, char *out, size_t hexlen)
{
    static const char hx[] = "0123456789abcdef";
    uint64_t w = 0;
    for (size_t i = 0; i < hexlen; i++) {
        if (i % 16 == 0)
            w = rnd(r);
        out[i] = hx[w & 15];
        w >>= 4;
    }
    out[hexlen] = '\0';
}

/* ---- scenarios --------------------------------------------------------------------- */

enum { RAW_WAZUH, RAW_SURICATA, RAW_ELASTIC, RAW_DEFENDER, RAW_SIGNIN, RAW_O365, RAW_EMAIL, RAW_TI };

/* Entities an alert carries. */
enum {
    E_HOST = 1 << 0, E_USER = 1 << 1, E_AUSER = 1 << 2, E_IP = 1 << 3, E_LIP = 1 << 4,
    E_DOM = 1 << 5, E_URL = 1 << 6, E_HASH = 1 << 7, E_SENDER = 1 << 8, E_FILE = 1 << 9,
};

typedef struct alert_tpl {
    const char *source, *rule, *title;
    const char *detail;   /* the log line, command line or subject the raw event holds */
    const char *a1, *a2;  /* source-specific extras (process/parent, app/result, ...) */
    const char *tech;
    int sev, raw, ents;
    int src, dst;         /* variables for the network source and destination */
    int burst;            /* > 1: a deduplicated alert with a count up to this */
    bool vary_user;       /* each alert names another targeted account ({auser}) */
} alert_tpl;

typedef struct art_tpl {
    const char *type, *value;
    bool ioc, from_alert;
} art_tpl;

typedef struct task_tpl {
    int phase;
    const char *title;
} task_tpl;

typedef struct ev_tpl {
    int before_min; /* how long before it was written down it happened */
    const char *summary, *source, *technique, *tactic;
} ev_tpl;

enum { SYN_NONE, SYN_PHISH, SYN_C2 };

typedef struct scenario {
    const char *title, *desc, *tags, *techs;
    int sev;
    bool quiet;            /* a false-positive kind: closes false_positive or benign */
    bool fp;               /* its `benign` note calls it a false positive, not benign */
    const char *hosts;     /* host name prefixes, comma-separated */
    int n_lo, n_hi, n2_lo, n2_hi;
    int synth;             /* how to invent infrastructure beyond the pool */
    const char *tlp;
    const char *pool[6];   /* variants, "key=value;..." */
    alert_tpl alerts[3];
    art_tpl arts[8];
    task_tpl tasks[9];
    const char *triage, *work, *contain, *close, *hold, *benign;
    ev_tpl events[2];
    int alert_weight, gen_weight;
} scenario;

enum { P_ID, P_CONT, P_ERAD, P_REC, P_LL }; /* VG_PHASE order */

enum {
    S_PHISH, S_SPRAY, S_SPRAY_OK, S_RANSOM, S_TRAVEL, S_C2, S_INSIDER, S_FP_SCAN, S_FP_ADMIN,
    S_EICAR, S_MFA, S_OAUTH, S_WEBSHELL, S_KERBEROAST, S_LSASS, S_DNS, S_NEW_ADMIN, S_RDP,
    S_MALDOC, S_TI, S_USB, S__COUNT
};

static const scenario SCEN[S__COUNT] = {
    [S_PHISH] = {
        .fp = true,
        .title = "Credential phishing: DocuSign lure to {user}",
        .desc = "{user} received a DocuSign-themed email from {sender} (\"Please review and "
                "sign: Q3 remittance advice\"). The button leads to a Microsoft 365 "
                "credential-harvesting page at {url}, hosted on {ip}.\n\n"
                "Part of a wave against finance and HR mailboxes: other cases share the "
                "sender domain {dom} and the same URL.",
        .tags = "phishing,email,credential-harvesting", .techs = "T1566.002,T1566.001,T1078",
        .sev = VG_SEV_MEDIUM, .hosts = "FIN-WS,HR-LT,SALES-LT,LEG-WS,ENG-LT", .n_lo = 6,
        .n_hi = 40, .n2_lo = 1, .n2_hi = 4, .synth = SYN_PHISH, .tlp = "AMBER",
        .pool = {"dom=d0cusign-notify.example;sender=dse@d0cusign-notify.example;"
                 "url=https://micros0ft-login.example/common/oauth2/login.php;ip=203.0.113.45;"
                 "tag=campaign-docusign-remit",
                 "dom=paypa1-billing.example;sender=service@paypa1-billing.example;"
                 "url=https://paypa1-billing.example/signin/verify;ip=198.51.100.66",
                 "dom=sharepoint-docs.test;sender=noreply@sharepoint-docs.test;"
                 "url=https://sharepoint-docs.test/sites/shared/Doc.aspx;ip=192.0.2.150",
                 "dom=we-transfer-files.example;sender=no-reply@we-transfer-files.example;"
                 "url=https://we-transfer-files.example/download/8f2c1e;ip=203.0.113.120",
                 "dom=0ffice365-alerts.test;sender=mailbox@0ffice365-alerts.test;"
                 "url=https://0ffice365-alerts.test/owa/auth/logon.aspx;ip=198.51.100.12"},
        .alerts = {
            {.source = "proofpoint", .rule = "url-click-permitted",
             .title = "URL click permitted: {url} ({user})",
             .detail = "Please review and sign: Q3 remittance advice", .a1 = "phish",
             .a2 = "permitted", .tech = "T1566.002", .sev = VG_SEV_HIGH, .raw = RAW_EMAIL,
             .ents = E_USER | E_SENDER | E_URL | E_IP, .src = V_IP},
            {.source = "defender", .rule = "ZAP-phish-removed",
             .title = "Email messages containing malicious URL removed after delivery",
             .detail = "Please review and sign: Q3 remittance advice", .a1 = "Phish",
             .a2 = "ZAP", .tech = "T1566.002", .sev = VG_SEV_MEDIUM, .raw = RAW_EMAIL,
             .ents = E_USER | E_SENDER | E_URL, .src = V_IP},
            {.source = "azuread", .rule = "AAD-risky-signin",
             .title = "Risky sign-in for {user} from {ip} after phishing click",
             .detail = "0", .a1 = "OfficeHome", .a2 = "Browser", .tech = "T1078",
             .sev = VG_SEV_HIGH, .raw = RAW_SIGNIN, .ents = E_USER | E_IP, .src = V_IP},
        },
        .arts = {{"email", "{sender}", true, true}, {"domain", "{dom}", true, true},
                 {"url", "{url}", true, true}, {"ip", "{ip}", true, true},
                 {"user", "{user}", false, false}, {"hostname", "{host}", false, false},
                 {"other", "Subject: Please review and sign: Q3 remittance advice", false, false}},
        .tasks = {{P_ID, "Pull message headers and confirm the sending infrastructure"},
                  {P_ID, "Message trace: find every recipient of {dom}"},
                  {P_CONT, "Purge the message from all mailboxes"},
                  {P_CONT, "Reset password and revoke sessions for {user}"},
                  {P_CONT, "Block {dom} and {ip} on proxy and mail gateway"},
                  {P_ERAD, "Review inbox rules, forwarding and OAuth grants of {user}"},
                  {P_REC, "Confirm MFA re-registration with {user}"},
                  {P_LL, "Add this lure to the phishing awareness examples"}},
        .triage = "Triage: Return-Path bounce@{dom}, SPF softfail, sent from {ip}. Subject "
                  "\"Please review and sign: Q3 remittance advice\". Button goes to {url}: a live "
                  "M365 lookalike, the kit posts creds to /next.php. Checking who else got it.",
        .work = "Message trace: {n} recipients across FIN/HR in a 20-minute burst. Proofpoint "
                "has {user} clicking at {t0} UTC. Sign-in logs: successful login for {user} from "
                "{ip} six minutes later, MFA satisfied by push, so the prompt was approved too.",
        .contain = "Password reset, all refresh tokens revoked, message purged from {n} "
                   "mailboxes. {dom} and {ip} on the proxy and EOP block lists. No inbox rules; "
                   "removed one device registration made from {ip}.",
        .close = "No further sign-ins from the kit's infrastructure in 72h and {user} re-enrolled "
                 "MFA (number matching now enforced for the group). IOCs shared to the MISP "
                 "event. Closing as true positive.",
        .hold = "On hold: {user} is on leave until Monday; need them to confirm whether they typed "
                "their password into the page. Sessions already revoked as a precaution.",
        .benign = "Link resolves to a real DocuSign envelope from our vendor; the Proofpoint "
                  "verdict was on the redirector. Nothing entered, nothing to contain. Closing.",
        .events = {{190, "{user} opened the DocuSign email and clicked the button (user interview)",
                    "interview", "T1566.002", "initial-access"},
                   {150, "Successful sign-in for {user} from {ip} (Azure AD sign-in log)",
                    "azuread", "T1078", "initial-access"}},
        .alert_weight = 3, .gen_weight = 20,
    },
    [S_SPRAY] = {
        .title = "Password spray against {app} from {ip}",
        .desc = "Low-and-slow failed logins against {app}: {n} distinct accounts, one or two "
                "attempts each, from {ip} and {ip2} (same hosting ASN). Seasonal passwords "
                "(Autumn2024!, Welcome1). No success seen at the time of writing.",
        .tags = "brute-force,password-spray,identity", .techs = "T1110.003",
        .sev = VG_SEV_MEDIUM, .hosts = "VPN-GW", .n_lo = 80, .n_hi = 600, .n2_lo = 300,
        .n2_hi = 2400, .tlp = "GREEN",
        .pool = {"app=GlobalProtect VPN;ip=198.51.100.23;ip2=198.51.100.24",
                 "app=Microsoft 365;ip=198.51.100.24;ip2=203.0.113.77",
                 "app=Citrix Gateway;ip=203.0.113.77;ip2=192.0.2.31",
                 "app=Microsoft 365;ip=192.0.2.31;ip2=192.0.2.32"},
        .alerts = {
            {.source = "azuread", .rule = "AAD-50126-threshold",
             .title = "Password spray: failed sign-ins from {ip} against {app}",
             .detail = "50126", .a1 = "{app}", .a2 = "BAV2ROPC", .tech = "T1110.003",
             .sev = VG_SEV_MEDIUM, .raw = RAW_SIGNIN, .ents = E_AUSER | E_IP, .src = V_IP,
             .burst = 60, .vary_user = true},
            {.source = "wazuh", .rule = "64520",
             .title = "GlobalProtect: authentication failed for {auser} from {ip}",
             .detail = "GLOBALPROTECT: gateway-auth-fail user '{auser}' from {ip}: "
                       "Authentication failed: Invalid username or password",
             .a1 = "/var/log/pan/globalprotect.log", .a2 = "panos", .tech = "T1110.003",
             .sev = VG_SEV_LOW, .raw = RAW_WAZUH, .ents = E_AUSER | E_IP | E_HOST,
             .src = V_IP, .dst = V_LIP, .burst = 20, .vary_user = true},
        },
        .arts = {{"ip", "{ip}", true, true}, {"ip", "{ip2}", true, true},
                 {"asn", "AS64500", false, false}, {"user-agent", "BAV2ROPC", true, true},
                 {"other", "{n} accounts targeted", false, false}},
        .tasks = {{P_ID, "Export failed sign-ins from {ip}/{ip2} and list targeted accounts"},
                  {P_ID, "Check for any successful authentication from the spray sources"},
                  {P_CONT, "Block {ip} and {ip2} on the portal and in Conditional Access"},
                  {P_CONT, "Force a reset for any account with a successful sign-in"},
                  {P_ERAD, "Disable legacy authentication for the remaining exempted accounts"},
                  {P_REC, "Watch sign-ins of the targeted accounts for 7 days"},
                  {P_LL, "Lower the smart-lockout threshold on {app}"}},
        .triage = "Spray from {ip}: {n} accounts, 1-2 tries each, ~40 s apart, UA BAV2ROPC "
                  "(legacy auth). Mostly 50126 (bad password), a handful of 50053 (locked). "
                  "No ResultType 0 so far.",
        .work = "Pulled everything from {ip} and {ip2} for 7 days: {n2} attempts. Both IPs in "
                "AS64500 (hosting), both on abuse feeds for spraying. Zero successes, but 3 "
                "accounts are still legacy-auth exempt.",
        .contain = "{ip} and {ip2} blocked on the portal and added to the CA blocked locations. "
                   "Smart lockout threshold down to 5. Ticket raised to kill the 3 legacy-auth "
                   "exemptions.",
        .close = "No successful auth from the spray sources; attempts stopped two hours after "
                 "the block. Closing as true positive.",
        .hold = "Holding until the firewall team confirms the block on the secondary portal "
                "cluster (change pending).",
        .benign = "Source is our pentest vendor, engagement {ticket}, window confirmed by the "
                  "CISO office. Closing as benign.",
        .events = {{300, "First failed sign-in from {ip} (portal logs)", "portal", "T1110.003",
                    "credential-access"}},
        .alert_weight = 12, .gen_weight = 8,
    },
    [S_SPRAY_OK] = {
        .title = "Successful sign-in after password spray: {user}",
        .desc = "After the spray from {ip}, {user} has a successful sign-in (ResultType 0) from "
                "the same address. MFA was not asked: the sign-in came through legacy IMAP. "
                "The unified audit log shows mailbox access.",
        .tags = "identity,account-compromise,password-spray", .techs = "T1110.003,T1078.004,T1114.002",
        .sev = VG_SEV_CRITICAL, .hosts = "EXO", .n_lo = 200, .n_hi = 3000, .tlp = "AMBER",
        .pool = {"ip=198.51.100.24", "ip=203.0.113.77", "ip=192.0.2.31"},
        .alerts = {
            {.source = "azuread", .rule = "AAD-spray-success",
             .title = "Successful sign-in from password spray source {ip} for {user}",
             .detail = "0", .a1 = "Exchange Online", .a2 = "IMAP4", .tech = "T1078.004",
             .sev = VG_SEV_HIGH, .raw = RAW_SIGNIN, .ents = E_USER | E_IP, .src = V_IP},
            {.source = "o365", .rule = "MailItemsAccessed-volume",
             .title = "Unusual mailbox access volume for {user} over IMAP",
             .detail = "MailItemsAccessed", .a1 = "MailItemsAccessed", .a2 = "Exchange",
             .tech = "T1114.002", .sev = VG_SEV_HIGH, .raw = RAW_O365, .ents = E_USER | E_IP,
             .src = V_IP, .burst = 30},
        },
        .arts = {{"ip", "{ip}", true, true}, {"user", "{user}", false, true},
                 {"user-agent", "BAV2ROPC", true, true}},
        .tasks = {{P_ID, "Scope mailbox access (MailItemsAccessed) for {user}"},
                  {P_CONT, "Disable {user} and revoke all sessions"},
                  {P_CONT, "Turn off IMAP/POP for every mailbox, no exceptions"},
                  {P_ERAD, "Check forwarding rules, app passwords and delegates"},
                  {P_REC, "Re-enable {user} with a new password and MFA"},
                  {P_LL, "Remove the legacy-auth exemption process"}},
        .triage = "Confirmed: sign-in for {user} from {ip} succeeded at {t0} UTC via IMAP4 "
                  "(legacy, no MFA). The password was in the spray list (Autumn2024!).",
        .work = "UAL: {n} MailItemsAccessed over IMAP in 40 min, Inbox and Finance/Invoices. No "
                "send activity, no forwarding rule. Looks like a bulk sync for BEC recon.",
        .contain = "Account disabled, sessions revoked, IMAP/POP off tenant-wide (exception list "
                   "emptied with IT's approval).",
        .close = "Password reset, MFA re-registered, legal informed about possible exposure of "
                 "invoices. Closing as true positive.",
        .hold = "On hold pending Legal's decision on notification.",
        .benign = "The 'success' is the user's own mail client on home broadband sharing the "
                  "CGNAT address with the spray source. Closing as benign.",
        .events = {{420, "Successful IMAP sign-in for {user} from {ip}", "azuread", "T1078.004",
                    "initial-access"}},
        .alert_weight = 4, .gen_weight = 2,
    },
    [S_RANSOM] = {
        .title = "Ransomware precursor on {host}: beacon and shadow copy deletion",
        .desc = "Defender flagged a Cobalt Strike-like beacon on {host} (rundll32 loading "
                "{file}, parent wmiprvse.exe), followed 40 minutes later by `vssadmin delete "
                "shadows /all /quiet` and `wbadmin delete catalog`. Pre-encryption staging; no "
                "encryption observed. C2: {dom} ({ip}).",
        .tags = "ransomware,cobalt-strike,edr", .techs = "T1486,T1490,T1059.001,T1071.001",
        .sev = VG_SEV_CRITICAL, .hosts = "FIN-SRV,OPS-SRV,HR-SRV,FS", .synth = SYN_C2,
        .tlp = "RED",
        .pool = {"dom=status-telemetry.test;ip=192.0.2.77;file=C:\\ProgramData\\msupdate.dll",
                 "dom=cdn-update-check.test;ip=198.51.100.201;file=C:\\Users\\Public\\wdupd.dll",
                 "dom=edge-sync-node.test;ip=203.0.113.66;file=C:\\ProgramData\\vmtools.dll"},
        .alerts = {
            {.source = "defender", .rule = "Behavior:Win32/CobaltStrike.C",
             .title = "Cobalt Strike beacon behaviour on {host}",
             .detail = "rundll32.exe {file},StartW", .a1 = "rundll32.exe", .a2 = "WmiPrvSE.exe",
             .tech = "T1059.001", .sev = VG_SEV_CRITICAL, .raw = RAW_DEFENDER,
             .ents = E_HOST | E_USER | E_HASH},
            {.source = "elastic", .rule = "shadow-copy-deletion",
             .title = "Volume shadow copies deleted via vssadmin on {host}",
             .detail = "vssadmin.exe delete shadows /all /quiet", .a1 = "vssadmin.exe",
             .a2 = "cmd.exe", .tech = "T1490", .sev = VG_SEV_CRITICAL, .raw = RAW_ELASTIC,
             .ents = E_HOST | E_USER},
            {.source = "suricata", .rule = "2032749",
             .title = "ET MALWARE Cobalt Strike Beacon Observed ({dom})",
             .detail = "ET MALWARE Cobalt Strike Beacon Observed", .a1 = "tls", .a2 = "443",
             .tech = "T1071.001", .sev = VG_SEV_HIGH, .raw = RAW_SURICATA,
             .ents = E_HOST | E_IP | E_DOM, .src = V_LIP, .dst = V_IP, .burst = 40},
        },
        .arts = {{"hostname", "{host}", false, true}, {"sha256", "{hash}", true, true},
                 {"filename", "{file}", true, true}, {"domain", "{dom}", true, true},
                 {"ip", "{ip}", true, true}, {"user", "{user}", false, false},
                 {"other", "vssadmin.exe delete shadows /all /quiet", false, false},
                 {"other", "\\\\.\\pipe\\MSSE-4821-server", true, false}},
        .tasks = {{P_ID, "Pull the process tree and a memory image from {host}"},
                  {P_ID, "Find patient zero and lateral movement (4624 type 3 from {host})"},
                  {P_CONT, "Isolate {host} in Defender"},
                  {P_CONT, "Disable {user} and the local admin account used"},
                  {P_CONT, "Block {dom} and {ip} at proxy and firewall"},
                  {P_ERAD, "Reimage {host} and rotate every credential seen on it"},
                  {P_ERAD, "Reset KRBTGT twice, 10 hours apart"},
                  {P_REC, "Restore data from the last clean backup and verify it"},
                  {P_LL, "Why did ASR not block vssadmin? Review rule coverage"}},
        .triage = "{host} isolated from Defender at {t1} UTC. Beacon is `rundll32.exe {file},StartW` "
                  "with parent wmiprvse.exe. Sleep ~60 s with jitter, talks to {dom} ({ip}) "
                  "over 443.",
        .work = "Timeline: beacon starts ~50 min before the alert, then AdFind and `nltest "
                "/domain_trusts`, at {t0} `vssadmin delete shadows /all /quiet`, two minutes later "
                "`bcdedit /set {default} recoveryenabled No`. Textbook pre-ransomware. Same C2 domain as the beacon "
                "case on the ENG workstation, so likely one intrusion.",
        .contain = "Host isolated, {user} disabled, KRBTGT reset scheduled tonight (twice). {dom} "
                   "sinkholed on internal DNS. No other host beaconing since {t1}.",
        .close = "Reimaged, credentials rotated, nothing encrypted. Root cause: the ENG "
                 "workstation compromise, lateral movement over RDP with {user}'s credentials. IR "
                 "report sent to the CISO. Closing as true positive.",
        .hold = "Waiting for the forensics vendor's memory analysis before we reimage.",
        .benign = "Red team exercise ({ticket}); the team server is theirs. Confirmed with the RT "
                  "lead, closing as benign.",
        .events = {{50, "Beacon process rundll32.exe started on {host} (EDR process tree)", "edr",
                    "T1059.001", "execution"},
                   {15, "`vssadmin delete shadows /all /quiet` run as {user} on {host}", "edr",
                    "T1490", "impact"}},
        .alert_weight = 6, .gen_weight = 2,
    },
    [S_TRAVEL] = {
        .title = "Impossible travel: {user} from {city} and {city2} {n} minutes apart",
        .desc = "Sign-ins for {user} from {city2} ({ip2}) and {city} ({ip}) {n} minutes apart; "
                "the distance makes the trip impossible. The {city} sign-in used a new device and "
                "a browser never seen for this user.",
        .tags = "identity,impossible-travel", .techs = "T1078",
        .sev = VG_SEV_MEDIUM, .hosts = "AAD", .n_lo = 12, .n_hi = 95, .tlp = "AMBER",
        .pool = {""},
        .alerts = {
            {.source = "azuread", .rule = "impossibleTravel",
             .title = "Impossible travel activity for {user}", .detail = "0",
             .a1 = "OfficeHome", .a2 = "Browser", .tech = "T1078", .sev = VG_SEV_MEDIUM,
             .raw = RAW_SIGNIN, .ents = E_USER | E_IP, .src = V_IP},
            {.source = "defender", .rule = "MCAS-infrequent-country",
             .title = "Activity from infrequent country ({city}) for {user}",
             .detail = "Sign-in from {city}", .a1 = "Microsoft 365", .a2 = "MCAS",
             .tech = "T1078", .sev = VG_SEV_LOW, .raw = RAW_SIGNIN, .ents = E_USER | E_IP,
             .src = V_IP},
        },
        .arts = {{"user", "{user}", false, true}, {"ip", "{ip}", true, true},
                 {"ip", "{ip2}", false, true},
                 {"user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", false, true}},
        .tasks = {{P_ID, "Compare both sign-ins: device, user agent, MFA method"},
                  {P_ID, "Call {user} to confirm whether they are travelling"},
                  {P_CONT, "Revoke sessions for {user}"},
                  {P_CONT, "Block {ip} in Conditional Access"},
                  {P_ERAD, "Review mailbox rules and consented apps of {user}"},
                  {P_REC, "Reset password and re-register MFA"},
                  {P_LL, "Tune impossible travel for the corporate VPN egress"}},
        .triage = "{user} normally signs in from {city2}. The {city} sign-in came from {ip} "
                  "(residential ISP), MFA by SMS, although the user has Authenticator registered. "
                  "Odd.",
        .work = "Called {user}: not travelling, approved nothing. The SMS method was added 3 days "
                "ago from {ip}; the attacker registered their own method after phishing.",
        .contain = "Sessions revoked, SMS method removed, {ip} blocked, password reset forced.",
        .close = "Only mailbox reads from {ip}, OneDrive untouched. Added 'new MFA method from new "
                 "IP' to detections. Closing as true positive.",
        .hold = "{user} is on a flight. Left a message; waiting for the callback before acting.",
        .benign = "{user} confirmed: travelling in {city}; the {city2} sign-in is our VPN egress. "
                  "Known pattern, closing as benign.",
        .events = {{95, "Sign-in for {user} from {city} ({ip})", "azuread", "T1078",
                    "initial-access"}},
        .alert_weight = 2, .gen_weight = 10,
    },
    [S_C2] = {
        .fp = true,
        .title = "C2 beacon: periodic HTTPS from {host} to {dom}",
        .desc = "{host} has connected to {dom} ({ip}) every 60 s (\xc2\xb1" "10% jitter) for {n2} "
                "days: small constant-size POSTs, a JA3 seen nowhere else in the fleet. The domain "
                "was registered 9 days ago and no other host resolves it.",
        .tags = "c2,beaconing,network", .techs = "T1071.001,T1573.002",
        .sev = VG_SEV_HIGH, .hosts = "ENG-WS,MKT-LT,FIN-WS,OPS-WS", .n2_lo = 1, .n2_hi = 9,
        .synth = SYN_C2, .tlp = "AMBER",
        .pool = {"dom=status-telemetry.test;ip=192.0.2.77;file=OneDriveUpdater.exe",
                 "dom=cdn-metrics.test;ip=198.51.100.99;file=updsvc.exe",
                 "dom=api-sync-relay.test;ip=203.0.113.140;file=teamsupd.exe"},
        .alerts = {
            {.source = "suricata", .rule = "2028371",
             .title = "ET JA3 Hash - Possible Malware C2 ({dom})",
             .detail = "ET JA3 Hash - [Abuse.ch] Possible Dridex", .a1 = "tls", .a2 = "443",
             .tech = "T1071.001", .sev = VG_SEV_MEDIUM, .raw = RAW_SURICATA,
             .ents = E_HOST | E_IP | E_DOM, .src = V_LIP, .dst = V_IP, .burst = 120},
            {.source = "elastic", .rule = "rare-domain-periodic",
             .title = "Beaconing: {host} to {dom} every 60s",
             .detail = "{file}", .a1 = "{file}", .a2 = "explorer.exe", .tech = "T1071.001",
             .sev = VG_SEV_HIGH, .raw = RAW_ELASTIC, .ents = E_HOST | E_DOM | E_IP,
             .burst = 60},
        },
        .arts = {{"hostname", "{host}", false, true}, {"domain", "{dom}", true, true},
                 {"ip", "{ip}", true, true}, {"url", "https://{dom}/api/v2/status", true, false},
                 {"sha256", "{hash}", true, false}, {"filename", "{file}", true, false},
                 {"other", "JA3 72a589da586844d7f0818ce684948eea", true, true}},
        .tasks = {{P_ID, "Find the process behind the connections (Sysmon EID 3)"},
                  {P_ID, "Search DNS logs for any other host resolving {dom}"},
                  {P_CONT, "Isolate {host}"},
                  {P_CONT, "Sinkhole {dom} in internal DNS"},
                  {P_ERAD, "Remove the scheduled task OneDriveUpdateCheck and {file}"},
                  {P_REC, "Reimage {host} and hand it back"},
                  {P_LL, "Add rare-domain beaconing to the hunting backlog"}},
        .triage = "Intervals: median 60.2 s, stdev 5.8 s over 6 h, too regular for a person. POST "
                  "bodies 312-330 bytes, empty responses most of the time. Process is {file} in "
                  "%APPDATA%\\Microsoft\\.",
        .work = "{file} persists via scheduled task OneDriveUpdateCheck (at logon). Hash {hash}: "
                "no VT hits, custom build. Only {host} resolves {dom}. Same JA3 and /api/v2/status "
                "path as the ransomware precursor case.",
        .contain = "Host isolated at {t1}, {dom} sinkholed, proxy override to block.",
        .close = "Reimaged. Initial vector: trojanised installer from a fake download site. "
                 "Closing as true positive.",
        .hold = "Waiting for the manager's OK to reimage (engineer has unpushed work on it).",
        .benign = "The POSTs come from the new telemetry agent IT rolled out ({ticket}). Domain on "
                  "the allow-list, closing as false positive.",
        .events = {{240, "First connection from {host} to {dom} (proxy log)", "proxy",
                    "T1071.001", "command-and-control"}},
        .alert_weight = 8, .gen_weight = 4,
    },
    [S_INSIDER] = {
        .title = "Bulk download from SharePoint '{site}' by {user} before resignation",
        .desc = "{user} (in notice period, last day Friday) downloaded {n} files from the {site} "
                "site in 25 minutes, then uploaded about {n2} MB to a personal cloud account from "
                "{host}. HR flagged the resignation on Monday.",
        .tags = "insider,data-exfiltration,dlp", .techs = "T1530,T1567.002",
        .sev = VG_SEV_HIGH, .hosts = "FIN-LT,SALES-LT,ENG-LT,LEG-LT", .n_lo = 150,
        .n_hi = 5000, .n2_lo = 80, .n2_hi = 2500, .tlp = "RED",
        .pool = {""},
        .alerts = {
            {.source = "o365", .rule = "FileDownloaded-mass",
             .title = "Mass download by {user} from {site}", .detail = "FileDownloaded",
             .a1 = "FileDownloaded", .a2 = "SharePoint", .tech = "T1530", .sev = VG_SEV_HIGH,
             .raw = RAW_O365, .ents = E_USER | E_HOST, .src = V_LIP, .burst = 200},
            {.source = "suricata", .rule = "2012647",
             .title = "ET POLICY Personal cloud storage upload from {host}",
             .detail = "ET POLICY Dropbox-style client upload", .a1 = "tls", .a2 = "443",
             .tech = "T1567.002", .sev = VG_SEV_LOW, .raw = RAW_SURICATA,
             .ents = E_HOST | E_DOM, .src = V_LIP, .dst = V_IP, .burst = 50},
        },
        .arts = {{"user", "{user}", false, true}, {"hostname", "{host}", false, true},
                 {"url", "https://corp.sharepoint.example/sites/{site}", false, true},
                 {"domain", "dl.cloudbox.example", false, true}},
        .tasks = {{P_ID, "Export UAL FileDownloaded events for {user}"},
                  {P_ID, "Check endpoint DLP logs on {host} for uploads"},
                  {P_CONT, "Block personal cloud storage for {user} (CA session policy)"},
                  {P_CONT, "Agree next steps with HR and Legal before any contact"},
                  {P_ERAD, "Collect {host} on the last day with chain of custody"},
                  {P_REC, "Review membership of {site} and remove stale access"},
                  {P_LL, "Add a leavers watch-list to the DLP policy"}},
        .triage = "UAL: {n} FileDownloaded events, all from {site}/Shared Documents, in the 25 "
                  "minutes up to {t0}, from {host}. The user's baseline is about 15 files a day.",
        .work = "Proxy: {n2} MB uploaded to dl.cloudbox.example from {host} in the 20 minutes "
                "after {t0}. Files include forecast workbooks and the pricing model. Not malware, a "
                "people problem: looping in HR and Legal.",
        .contain = "Cloud storage blocked for {user} by CA session policy, external sharing off. "
                   "HR holds the exit interview Friday with Legal present.",
        .close = "User returned the files and signed a declaration; deletion of the personal "
                 "copy witnessed. Closing as true positive per Legal.",
        .hold = "On hold at Legal's request: no contact with the employee until HR's meeting on "
                "Friday.",
        .benign = "Manager confirms the downloads were the handover pack the team asked for; the "
                  "upload went to our sanctioned cloudbox tenant. Closing as benign.",
        .events = {{1440, "HR: {user} handed in notice", "hr", NULL, NULL},
                   {60, "{n} files downloaded from {site} in 25 minutes (UAL)", "o365", "T1530",
                    "collection"}},
        .alert_weight = 4, .gen_weight = 2,
    },
    [S_FP_SCAN] = {
        .fp = true,
        .title = "SQL injection attempts against {host} from {lip}",
        .desc = "WAF and Suricata flag SQL injection and path traversal payloads against {host} "
                "from {lip}: {n} requests in 3 hours. {lip} is the Nessus scanner in the IT VLAN; "
                "the weekly authenticated scan runs Tuesdays 01:00-05:00.",
        .tags = "web,scanner,noise", .techs = "T1190", .sev = VG_SEV_MEDIUM, .quiet = true,
        .hosts = "WEB-DMZ,APP-SRV", .n_lo = 200, .n_hi = 3000, .tlp = "GREEN",
        .pool = {"lip=10.20.0.15;ticket=CHG-4711", "lip=10.20.0.16;ticket=CHG-4790"},
        .alerts = {
            {.source = "suricata", .rule = "2006446",
             .title = "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT ({host})",
             .detail = "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT",
             .a1 = "http", .a2 = "443", .tech = "T1190", .sev = VG_SEV_HIGH,
             .raw = RAW_SURICATA, .ents = E_HOST | E_LIP, .src = V_LIP, .dst = V_IP,
             .burst = 80},
            {.source = "wazuh", .rule = "31103",
             .title = "Web attack: SQL injection attempt on {host}",
             .detail = "{lip} - - \"GET /search.php?q=1%27%20UNION%20SELECT%20NULL--\" 403 "
                       "\"Mozilla/5.0 (compatible; Nessus SOAP)\"",
             .a1 = "/var/log/nginx/access.log", .a2 = "web-accesslog", .tech = "T1190",
             .sev = VG_SEV_MEDIUM, .raw = RAW_WAZUH, .ents = E_HOST | E_LIP, .src = V_LIP,
             .burst = 40},
        },
        .arts = {{"ip", "{lip}", false, true}, {"hostname", "{host}", false, true},
                 {"user-agent", "Mozilla/5.0 (compatible; Nessus SOAP)", false, true}},
        .tasks = {{P_ID, "Confirm the source is the scheduled vulnerability scan"},
                  {P_LL, "Suppress the scanner in WAF/IDS rules during its window"}},
        .triage = "Source {lip} is nessus-01 (IT VLAN), UA 'Nessus SOAP', times inside the "
                  "Tuesday window. Payloads are generic plugin checks, all answered 403/404.",
        .benign = "Scheduled Nessus scan, change {ticket}. False positive; asked IT to add the "
                  "scanner to the IDS suppression list for its window.",
        .alert_weight = 10, .gen_weight = 10,
    },
    [S_FP_ADMIN] = {
        .title = "Encoded PowerShell on {host} by {user}",
        .desc = "Elastic fired on `powershell.exe -NoP -W Hidden -EncodedCommand ...` on {host}, "
                "run by {user} (IT operations). Needs decoding before anyone panics.",
        .tags = "powershell,admin-activity,noise", .techs = "T1059.001,T1027",
        .sev = VG_SEV_MEDIUM, .quiet = true, .hosts = "IT-SRV,OPS-SRV,APP-SRV", .tlp = "GREEN",
        .pool = {"user=o.adeyemi@corp.example;ticket=CHG-4755",
                 "user=p.walsh@corp.example;ticket=CHG-4768"},
        .alerts = {
            {.source = "elastic", .rule = "powershell-encoded-command",
             .title = "Encoded PowerShell command on {host}",
             .detail = "powershell.exe -NoP -W Hidden -EncodedCommand "
                       "JABzAGMAYwBtACAAPQAgAEcAZQB0AC0AVwBtAGkATwBiAGoAZQBjAHQA",
             .a1 = "powershell.exe", .a2 = "CcmExec.exe", .tech = "T1059.001",
             .sev = VG_SEV_MEDIUM, .raw = RAW_ELASTIC, .ents = E_HOST | E_USER},
            {.source = "defender", .rule = "SuspiciousPowerShellCommandLine",
             .title = "Suspicious PowerShell command line on {host}",
             .detail = "powershell.exe -NoP -W Hidden -EncodedCommand JABzAGMAYwBtACAAPQAg",
             .a1 = "powershell.exe", .a2 = "CcmExec.exe", .tech = "T1027",
             .sev = VG_SEV_LOW, .raw = RAW_DEFENDER, .ents = E_HOST | E_USER},
        },
        .arts = {{"hostname", "{host}", false, true}, {"user", "{user}", false, true},
                 {"other", "powershell.exe -NoP -W Hidden -EncodedCommand JABzAGMAYwBtACAAPQAg...",
                  false, true}},
        .tasks = {{P_ID, "Decode the command and compare with the SCCM script repository"}},
        .triage = "Decoded: `$sccm = Get-WmiObject -Namespace root\\ccm -Class SMS_Client; ...`, "
                  "identical to ClientHealth.ps1 v3.2 in the IT repo. Parent is CcmExec.exe.",
        .benign = "Legitimate SCCM client health script run by {user} ({ticket}). Closing; asked "
                  "IT to sign the script so we can exclude it by signer instead of by path.",
        .alert_weight = 2, .gen_weight = 8,
    },
    [S_EICAR] = {
        .title = "EICAR test file detected on {host}",
        .desc = "Defender quarantined the EICAR test string in {file} on {host}, downloaded by "
                "{user}.",
        .tags = "av,test,noise", .techs = "", .sev = VG_SEV_INFO, .quiet = true,
        .hosts = "QA-WS,IT-WS", .tlp = "CLEAR",
        .pool = {"file=eicar_upload_test.txt;ticket=QA-311", "file=eicar.com;ticket=QA-327"},
        .alerts = {
            {.source = "defender", .rule = "Virus:DOS/EICAR_Test_File",
             .title = "EICAR test file quarantined on {host}", .detail = "{file}",
             .a1 = "{file}", .a2 = "msedge.exe", .sev = VG_SEV_LOW, .raw = RAW_DEFENDER,
             .ents = E_HOST | E_USER | E_FILE},
        },
        .arts = {{"filename", "{file}", false, true}, {"hostname", "{host}", false, true}},
        .tasks = {{P_ID, "Confirm with {user} that this was a test"}},
        .triage = "EICAR string in {file}, downloaded by {user} from the staging upload page.",
        .benign = "QA testing the document upload scanner ({ticket}). Benign, closing.",
        .alert_weight = 1, .gen_weight = 3,
    },
    [S_MFA] = {
        .title = "MFA push bombing against {user}",
        .desc = "{user} received {n} Authenticator push requests in 20 minutes for sign-ins from "
                "{ip}; the last one was approved at {t0} UTC.",
        .tags = "identity,mfa-fatigue", .techs = "T1621,T1078", .sev = VG_SEV_HIGH,
        .hosts = "AAD", .n_lo = 8, .n_hi = 40, .tlp = "AMBER", .pool = {""},
        .alerts = {
            {.source = "azuread", .rule = "MFA-denied-burst",
             .title = "Repeated MFA denials for {user} from {ip}", .detail = "500121",
             .a1 = "OfficeHome", .a2 = "Browser", .tech = "T1621", .sev = VG_SEV_HIGH,
             .raw = RAW_SIGNIN, .ents = E_USER | E_IP, .src = V_IP, .burst = 15},
            {.source = "azuread", .rule = "user-reported-fraud",
             .title = "User reported MFA fraud: {user}", .detail = "500121",
             .a1 = "OfficeHome", .a2 = "Browser", .tech = "T1621", .sev = VG_SEV_HIGH,
             .raw = RAW_SIGNIN, .ents = E_USER | E_IP, .src = V_IP},
        },
        .arts = {{"user", "{user}", false, true}, {"ip", "{ip}", true, true}},
        .tasks = {{P_ID, "Ask {user} whether the approval was intentional"},
                  {P_CONT, "Revoke sessions and reset the password of {user}"},
                  {P_CONT, "Enable number matching for the pilot group"},
                  {P_ERAD, "Review sign-ins and mailbox activity after the approval"},
                  {P_REC, "Re-register MFA on a new device"},
                  {P_LL, "Roll out number matching tenant-wide"}},
        .triage = "{n} pushes in the 20 minutes up to {t0}, all from {ip}. The user denied most, then "
                  "approved one 'just to make it stop'.",
        .work = "After the approval: mailbox accessed from {ip} for 11 minutes, no rules created, "
                "one OneDrive file opened (Benefits_2024.pdf).",
        .contain = "Sessions revoked at {t1}, password reset, {ip} blocked.",
        .close = "Number matching enforced tenant-wide from Monday. Closing as true positive.",
        .hold = "Waiting for {user} to confirm by phone (night shift).",
        .benign = "User was locked out and retrying from a new phone; all pushes from our office "
                  "egress. Closing as benign.",
        .events = {{30, "{user} approved a push after {n} prompts (user statement)", "interview",
                    "T1621", "credential-access"}},
        .alert_weight = 4, .gen_weight = 5,
    },
    [S_OAUTH] = {
        .title = "Suspicious OAuth consent: '{app}' granted Mail.Read by {user}",
        .desc = "{user} consented to '{app}' (unverified publisher, reply URL on {dom}) with "
                "Mail.Read, offline_access and User.Read.",
        .tags = "identity,oauth,consent-phishing", .techs = "T1528", .sev = VG_SEV_MEDIUM,
        .hosts = "AAD", .n_lo = 2, .n_hi = 12, .tlp = "AMBER",
        .pool = {"app=Mail Backup Pro;dom=mailbackup-pro.example",
                 "app=PDF Converter Online;dom=pdf-convert-online.test",
                 "app=Calendar Sync Plus;dom=calsync-plus.example"},
        .alerts = {
            {.source = "o365", .rule = "consent-to-application",
             .title = "Consent to application '{app}' with Mail.Read, offline_access",
             .detail = "Consent to application.", .a1 = "Consent to application.",
             .a2 = "AzureActiveDirectory", .tech = "T1528", .sev = VG_SEV_MEDIUM,
             .raw = RAW_O365, .ents = E_USER | E_DOM, .src = V_IP},
        },
        .arts = {{"user", "{user}", false, true}, {"domain", "{dom}", true, true},
                 {"url", "https://{dom}/oauth/callback", true, true},
                 {"other", "AppId 4f2a9c1e-7b3d-4e8a-9c51-2b6d8e0f1a37", true, false}},
        .tasks = {{P_ID, "List the permissions and publisher of '{app}'"},
                  {P_CONT, "Revoke the grant and disable the service principal"},
                  {P_ERAD, "Find other users who consented to '{app}'"},
                  {P_REC, "Tell {user} what happened and what to watch for"},
                  {P_LL, "Require admin consent for unverified publishers"}},
        .triage = "App '{app}': unverified publisher, reply URL on {dom} (registered 12 days ago). "
                  "Scopes Mail.Read, offline_access, User.Read.",
        .work = "{n} other users consented in the last 48 h, all after a mail titled 'Mailbox "
                "storage full'.",
        .contain = "Service principal disabled, grants revoked for all {n} users, app blocked "
                   "tenant-wide.",
        .close = "Admin consent workflow now required for unverified publishers. Closing as true "
                 "positive.",
        .hold = "Waiting for the M365 admin to confirm the admin-consent workflow change.",
        .benign = "'{app}' is the marketing newsletter tool; publisher verified on a second look "
                  "and IT approved the consent. Closing as benign.",
        .alert_weight = 2, .gen_weight = 3,
    },
    [S_WEBSHELL] = {
        .fp = true,
        .title = "Web shell on {host}: {file} in /uploads",
        .desc = "File integrity monitoring saw {file} appear in the upload directory of {host}; "
                "IIS logs show a POST to Telerik.Web.UI.WebResource.axd from {ip} just before.",
        .tags = "web-shell,dmz,exploit", .techs = "T1505.003,T1190", .sev = VG_SEV_CRITICAL,
        .hosts = "WEB-DMZ", .tlp = "AMBER",
        .pool = {"file=cmd.aspx;ip=198.51.100.61", "file=diag.aspx;ip=203.0.113.31"},
        .alerts = {
            {.source = "wazuh", .rule = "554",
             .title = "Web shell: new .aspx file in upload directory on {host}",
             .detail = "New file 'D:\\inetpub\\portal\\uploads\\{file}' added to the file system.",
             .a1 = "syscheck", .a2 = "syscheck_new_entry", .tech = "T1505.003",
             .sev = VG_SEV_CRITICAL, .raw = RAW_WAZUH, .ents = E_HOST | E_FILE},
            {.source = "suricata", .rule = "2025341",
             .title = "ET WEB_SERVER Generic Webshell Request ({host})",
             .detail = "ET WEB_SERVER Generic Webshell Request - POST with cmd in body",
             .a1 = "http", .a2 = "443", .tech = "T1505.003", .sev = VG_SEV_HIGH,
             .raw = RAW_SURICATA, .ents = E_HOST | E_IP, .src = V_IP, .dst = V_LIP},
        },
        .arts = {{"hostname", "{host}", false, true}, {"filename", "{file}", true, true},
                 {"sha256", "{hash}", true, false}, {"ip", "{ip}", true, true},
                 {"url", "https://portal.corp.example/uploads/{file}", true, false},
                 {"cve", "CVE-2019-18935", false, false}},
        .tasks = {{P_ID, "Acquire IIS logs and the web root of {host}"},
                  {P_ID, "Identify the upload request and the exploited component"},
                  {P_CONT, "Take {host} out of the load balancer pool"},
                  {P_CONT, "Block {ip} at the WAF"},
                  {P_ERAD, "Remove {file} and patch Telerik UI"},
                  {P_REC, "Redeploy the site from the pipeline and restore traffic"},
                  {P_LL, "Put web roots under file integrity monitoring by default"}},
        .triage = "{file} dropped in D:\\inetpub\\portal\\uploads at {t0}, 2 KB, contains "
                  "`eval(Request.Item[\"c\"])`. POST to Telerik.Web.UI.WebResource.axd from {ip} "
                  "right before: CVE-2019-18935.",
        .work = "Through the shell: `whoami`, `ipconfig /all`, `net group \"domain admins\" "
                "/domain`, six commands in all, from {ip}. App pool identity is not a domain "
                "account; lateral movement unlikely.",
        .contain = "{host} out of the pool at {t1}, {ip} blocked at the WAF, shell preserved "
                   "for evidence then removed.",
        .close = "Telerik UI patched, site redeployed from the pipeline, no further hits. "
                 "Closing as true positive.",
        .hold = "Waiting for the app team's patch window before we put it back in the pool.",
        .benign = "The file is the vendor's diagnostics page deployed by the app team ({ticket}); "
                  "same hash as in their release. Closing as false positive.",
        .events = {{70, "POST /Telerik.Web.UI.WebResource.axd?type=rau from {ip} (IIS log)", "iis",
                    "T1190", "initial-access"}},
        .alert_weight = 4, .gen_weight = 1,
    },
    [S_KERBEROAST] = {
        .title = "Kerberoasting from {host}: RC4 service tickets for {n} SPNs",
        .desc = "{n} TGS requests with RC4 encryption (0x17) in 90 seconds from {host} ({lip}) as "
                "{user}, covering nearly every SPN in the domain.",
        .tags = "active-directory,kerberos,credential-access", .techs = "T1558.003",
        .sev = VG_SEV_HIGH, .hosts = "IT-WS,ENG-WS,OPS-WS", .n_lo = 8, .n_hi = 60,
        .tlp = "AMBER", .pool = {""},
        .alerts = {
            {.source = "elastic", .rule = "kerberoasting-rc4",
             .title = "Multiple RC4 service ticket requests from {host}",
             .detail = "4769", .a1 = "lsass.exe", .a2 = "services.exe", .tech = "T1558.003",
             .sev = VG_SEV_HIGH, .raw = RAW_ELASTIC, .ents = E_HOST | E_USER | E_LIP},
            {.source = "wazuh", .rule = "60106",
             .title = "Windows: Kerberos TGS requested with RC4 by {user}",
             .detail = "A Kerberos service ticket was requested. Ticket Encryption Type: 0x17",
             .a1 = "EventChannel", .a2 = "windows_eventchannel", .tech = "T1558.003",
             .sev = VG_SEV_MEDIUM, .raw = RAW_WAZUH, .ents = E_HOST | E_USER | E_LIP,
             .src = V_LIP, .burst = 40},
        },
        .arts = {{"hostname", "{host}", false, true}, {"user", "{user}", false, true},
                 {"ip", "{lip}", false, true},
                 {"other", "SPNs: MSSQLSvc/sql01, svc_backup, HTTP/sharepoint", false, false}},
        .tasks = {{P_ID, "List the SPNs requested and their password ages"},
                  {P_CONT, "Reset roastable service account passwords (30+ chars)"},
                  {P_CONT, "Disable {user} pending investigation"},
                  {P_ERAD, "Move service accounts to gMSA where possible"},
                  {P_REC, "Set AES-only encryption on service accounts"},
                  {P_LL, "Alert on RC4 TGS requests by default"}},
        .triage = "{n} TGS-REQ with etype 0x17 in 90 s from {host} ({lip}) as {user}. Covers every "
                  "SPN; looks like Rubeus or GetUserSPNs.",
        .work = "svc_sql01 password last set in 2017, crackable offline in hours: prioritised. "
                "EDR on {host}: PowerShell loaded System.IdentityModel right before the burst.",
        .contain = "svc_sql01, svc_backup and svc_sharepoint reset to 30-char random, {user} "
                   "disabled, {host} isolated.",
        .close = "No use of the service accounts from unusual hosts before the reset. Closing as "
                 "true positive.",
        .hold = "Waiting for the DBA team to schedule the svc_sql01 reset (prod dependency).",
        .benign = "Internal pentest ({ticket}) from the tester's workstation. Closing as benign.",
        .alert_weight = 4, .gen_weight = 2,
    },
    [S_LSASS] = {
        .title = "LSASS memory access by procdump64.exe on {host}",
        .desc = "`procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp` ran on "
                "{host} as {user}, from an RDP session opened from {lip}.",
        .tags = "credential-access,edr", .techs = "T1003.001", .sev = VG_SEV_HIGH,
        .hosts = "HR-WS,FIN-WS,IT-SRV", .tlp = "AMBER", .pool = {""},
        .alerts = {
            {.source = "defender", .rule = "CredentialDumping-LsassAccess",
             .title = "Credential dumping via LSASS access on {host}",
             .detail = "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp",
             .a1 = "procdump64.exe", .a2 = "cmd.exe", .tech = "T1003.001", .sev = VG_SEV_HIGH,
             .raw = RAW_DEFENDER, .ents = E_HOST | E_USER | E_HASH},
            {.source = "elastic", .rule = "lsass-memory-dump",
             .title = "LSASS memory dump file created on {host}",
             .detail = "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp",
             .a1 = "procdump64.exe", .a2 = "cmd.exe", .tech = "T1003.001", .sev = VG_SEV_HIGH,
             .raw = RAW_ELASTIC, .ents = E_HOST | E_USER},
        },
        .arts = {{"hostname", "{host}", false, true}, {"user", "{user}", false, true},
                 {"filename", "procdump64.exe", false, true},
                 {"filename", "C:\\Windows\\Temp\\lsass.dmp", true, true},
                 {"ip", "{lip}", false, false}},
        .tasks = {{P_ID, "Who ran procdump, from which session?"},
                  {P_ID, "List credentials cached on {host}"},
                  {P_CONT, "Isolate {host}"},
                  {P_CONT, "Reset accounts that logged on to {host} in the last 7 days"},
                  {P_ERAD, "Enable LSA protection (RunAsPPL) on {host}"},
                  {P_REC, "Return {host} after reimage"},
                  {P_LL, "Enable the ASR rule blocking credential theft from LSASS"}},
        .triage = "procdump ran as {user} at {t0} from an RDP session from {lip} (JUMP-02). "
                  "Dump written to C:\\Windows\\Temp\\lsass.dmp, 48 MB.",
        .work = "{user} is a helpdesk account and the owner denies running it. Someone is using "
                "helpdesk credentials from the jump host.",
        .contain = "{host} isolated, dump collected then deleted, {user} disabled, 9 accounts that "
                   "logged on to {host} reset.",
        .close = "Tied to the spray-success case: same operator, same jump host. Closing as true "
                 "positive.",
        .hold = "Waiting for the helpdesk lead to confirm who had the session.",
        .benign = "Support engineer collecting a crash dump for a vendor case ({ticket}); wrong "
                  "process but authorised. Closing as benign, engineer re-briefed.",
        .alert_weight = 2, .gen_weight = 2,
    },
    [S_DNS] = {
        .fp = true,
        .title = "DNS tunnelling suspected: long TXT queries from {host} to {dom}",
        .desc = "{host} sent {n} TXT queries in an hour to subdomains of {dom}: labels of 50-63 "
                "characters, base32-looking. Authoritative server {ip}.",
        .tags = "dns,exfiltration,c2", .techs = "T1071.004,T1048", .sev = VG_SEV_MEDIUM,
        .hosts = "ENG-WS,FIN-WS,OPS-WS", .n_lo = 400, .n_hi = 9000, .n2_lo = 40,
        .n2_hi = 900, .tlp = "AMBER",
        .pool = {"dom=x7.dnslog-cdn.test;ip=198.51.100.53;file=svc-dnscfg.exe",
                 "dom=avqs.av-cloud-lookup.test;ip=192.0.2.53;file=avscan.exe"},
        .alerts = {
            {.source = "suricata", .rule = "2027863",
             .title = "ET DNS Excessive DNS TXT Queries to {dom}",
             .detail = "ET DNS Excessive TXT Queries - Possible DNS Tunnel", .a1 = "dns",
             .a2 = "53", .tech = "T1071.004", .sev = VG_SEV_MEDIUM, .raw = RAW_SURICATA,
             .ents = E_HOST | E_DOM, .src = V_LIP, .dst = V_IP, .burst = 200},
            {.source = "elastic", .rule = "dns-high-entropy-subdomain",
             .title = "High-entropy subdomains queried by {host}", .detail = "{file}",
             .a1 = "{file}", .a2 = "services.exe", .tech = "T1048", .sev = VG_SEV_MEDIUM,
             .raw = RAW_ELASTIC, .ents = E_HOST | E_DOM},
        },
        .arts = {{"hostname", "{host}", false, true}, {"domain", "{dom}", true, true},
                 {"ip", "{ip}", true, true}, {"filename", "{file}", false, false}},
        .tasks = {{P_ID, "Identify the process issuing the queries"},
                  {P_ID, "Estimate how much data left via DNS"},
                  {P_CONT, "Sinkhole {dom} on the resolvers"},
                  {P_ERAD, "Remove {file} and its service from {host}"},
                  {P_LL, "Alert on TXT query volume per host"}},
        .triage = "{n} TXT queries in 1 h, labels 50-63 chars, base32-looking, all under {dom}. "
                  "Authoritative NS {ip}.",
        .work = "Process: {file} in C:\\Users\\Public, dnscat2-like. Roughly {n2} KB encoded "
                "outbound.",
        .contain = "{dom} sinkholed on both resolvers, {host} isolated.",
        .close = "Binary removed, host reimaged. Closing as true positive.",
        .hold = "Waiting for the network team's full DNS capture from the resolvers.",
        .benign = "{dom} is the AV vendor's hash-reputation lookup over DNS. Closing as false "
                  "positive and allow-listing it.",
        .alert_weight = 6, .gen_weight = 3,
    },
    [S_NEW_ADMIN] = {
        .title = "New Domain Admin '{acct}' created outside the change window",
        .desc = "{acct} was created on {host} by {user} at {t0} and added to Domain Admins a "
                "minute later. No change ticket for tonight.",
        .tags = "active-directory,privilege,persistence", .techs = "T1136.002,T1098",
        .sev = VG_SEV_HIGH, .hosts = "DC", .tlp = "AMBER",
        .pool = {"acct=svc_backup2;user=o.adeyemi@corp.example",
                 "acct=adm_temp01;user=p.walsh@corp.example"},
        .alerts = {
            {.source = "wazuh", .rule = "60154",
             .title = "Member added to Domain Admins: {acct} by {user}",
             .detail = "A member was added to a security-enabled global group. Group: Domain Admins",
             .a1 = "EventChannel", .a2 = "windows_eventchannel", .tech = "T1098",
             .sev = VG_SEV_HIGH, .raw = RAW_WAZUH, .ents = E_HOST | E_USER},
            {.source = "wazuh", .rule = "60109", .title = "User account created: {acct}",
             .detail = "A user account was created. New Account: {acct}", .a1 = "EventChannel",
             .a2 = "windows_eventchannel", .tech = "T1136.002", .sev = VG_SEV_MEDIUM,
             .raw = RAW_WAZUH, .ents = E_HOST | E_USER},
        },
        .arts = {{"user", "{acct}", true, true}, {"user", "{user}", false, true},
                 {"hostname", "{host}", false, true}},
        .tasks = {{P_ID, "Find a change ticket or owner for {acct}"},
                  {P_CONT, "Disable {acct} and remove it from Domain Admins"},
                  {P_ERAD, "Review everything {acct} did"},
                  {P_LL, "Require a ticket reference in admin account descriptions"}},
        .triage = "{acct} created at {t0} on {host} by {user}, added to Domain Admins a minute later. "
                  "No change ticket for tonight. Calling {user}.",
        .work = "{acct} logged on to 3 file servers within the hour; no GPO changes.",
        .contain = "{acct} disabled and removed from Domain Admins.",
        .close = "{user}'s credentials were compromised (see the LSASS case). Closing as true "
                 "positive.",
        .hold = "Waiting for {user} to call back (off shift).",
        .benign = "{user} created it for the backup migration ({ticket}, approved; the time on "
                  "the ticket was wrong). Membership removed after the job. Closing as benign.",
        .alert_weight = 1, .gen_weight = 4,
    },
    [S_RDP] = {
        .title = "RDP brute force against {host} from {ip}",
        .desc = "{n} failed logons (4625, 0xC000006A) on {host} from {ip} over three hours. "
                "{host} should not be reachable from the internet at all.",
        .tags = "brute-force,rdp,exposure", .techs = "T1110.001,T1133", .sev = VG_SEV_MEDIUM,
        .hosts = "JUMP,RDS,TS", .n_lo = 300, .n_hi = 9000, .tlp = "GREEN", .pool = {""},
        .alerts = {
            {.source = "wazuh", .rule = "60204",
             .title = "Windows: multiple logon failures on {host} from {ip}",
             .detail = "An account failed to log on. Account Name: {auser} Source Network "
                       "Address: {ip} Failure Reason: Unknown user name or bad password.",
             .a1 = "EventChannel", .a2 = "windows_eventchannel", .tech = "T1110.001",
             .sev = VG_SEV_MEDIUM, .raw = RAW_WAZUH, .ents = E_HOST | E_IP | E_AUSER,
             .src = V_IP, .burst = 50, .vary_user = true},
            {.source = "suricata", .rule = "2023753",
             .title = "ET SCAN MS Terminal Server Traffic on Non-standard Port from {ip}",
             .detail = "ET SCAN MS Terminal Server Traffic on Non-standard Port", .a1 = "rdp",
             .a2 = "3389", .tech = "T1110.001", .sev = VG_SEV_LOW, .raw = RAW_SURICATA,
             .ents = E_HOST | E_IP, .src = V_IP, .dst = V_LIP, .burst = 50},
        },
        .arts = {{"ip", "{ip}", true, true}, {"hostname", "{host}", false, true},
                 {"other", "Usernames tried: administrator, admin, scan, test", false, false}},
        .tasks = {{P_ID, "Check for any successful logon from {ip}"},
                  {P_CONT, "Remove the NAT rule exposing {host}"},
                  {P_CONT, "Block {ip} at the edge"},
                  {P_LL, "Add an exposure check for RDP to the weekly scan"}},
        .triage = "{n} failed logons (4625) against {host} from {ip} over 3 h, NLA on, no success. {host} should "
                  "not be exposed: NAT rule left over from the migration.",
        .work = "No 4624 from {ip}. Same IP hits two other customers' RDP per the abuse feed.",
        .contain = "NAT rule removed, {ip} blocked at the edge.",
        .close = "No successful logon; exposure fixed. Closing as true positive.",
        .hold = "Waiting for the network team to remove the NAT rule (change window Thursday).",
        .benign = "Source is our own MSP's monitoring probe with a stale password. Fixed, closing "
                  "as benign.",
        .alert_weight = 8, .gen_weight = 5,
    },
    [S_MALDOC] = {
        .fp = true,
        .title = "Macro document spawned rundll32 on {host}",
        .desc = "{user} opened {file} from {sender}; WINWORD.EXE started rundll32.exe, which "
                "reached out to {dom}.",
        .tags = "malware,maldoc,email", .techs = "T1204.002,T1566.001,T1218.011",
        .sev = VG_SEV_HIGH, .hosts = "SALES-LT,HR-LT,FIN-WS", .tlp = "AMBER",
        .pool = {"file=Invoice_84213.docm;sender=ap@northwind-billing.example;"
                 "dom=northwind-billing.example;ip=203.0.113.99",
                 "file=Resume_J_Carter.docm;sender=j.carter.cv@mailbox.example;"
                 "dom=cv-share.test;ip=198.51.100.145"},
        .alerts = {
            {.source = "defender", .rule = "SuspiciousOfficeChildProcess",
             .title = "Suspicious process launched by Office application on {host}",
             .detail = "rundll32.exe C:\\Users\\Public\\x.dll,DllRegisterServer",
             .a1 = "rundll32.exe", .a2 = "WINWORD.EXE", .tech = "T1204.002",
             .sev = VG_SEV_HIGH, .raw = RAW_DEFENDER, .ents = E_HOST | E_USER | E_HASH},
            {.source = "elastic", .rule = "office-child-process",
             .title = "WINWORD.EXE spawned rundll32.exe on {host}",
             .detail = "rundll32.exe C:\\Users\\Public\\x.dll,DllRegisterServer",
             .a1 = "rundll32.exe", .a2 = "WINWORD.EXE", .tech = "T1218.011",
             .sev = VG_SEV_HIGH, .raw = RAW_ELASTIC, .ents = E_HOST | E_USER | E_DOM},
        },
        .arts = {{"filename", "{file}", true, true}, {"sha256", "{hash}", true, true},
                 {"email", "{sender}", true, false}, {"domain", "{dom}", true, true},
                 {"hostname", "{host}", false, true}, {"ip", "{ip}", true, false}},
        .tasks = {{P_ID, "Detonate {file} in the sandbox"},
                  {P_ID, "Find other recipients of {sender}"},
                  {P_CONT, "Isolate {host}"},
                  {P_CONT, "Block {dom} and the attachment hash"},
                  {P_ERAD, "Reimage {host}"},
                  {P_REC, "Restore {user}'s files from OneDrive"},
                  {P_LL, "Block macros from internet-origin files by GPO"}},
        .triage = "{file} from {sender}, macro drops C:\\Users\\Public\\x.dll and runs it with "
                  "rundll32. Callback to {dom} ({ip}).",
        .work = "Sandbox: the DLL is a loader, second stage never fetched (proxy blocked it). "
                "Two other recipients, neither opened it.",
        .contain = "{host} isolated, {dom} and the hash blocked, message purged.",
        .close = "Reimaged, no second stage. Closing as true positive.",
        .hold = "Waiting for the sandbox report on the second stage.",
        .benign = "Macro is the finance team's signed template; rundll32 call is its printing "
                  "helper. Closing as false positive.",
        .events = {{25, "{user} opened {file} and enabled content (user statement)", "interview",
                    "T1204.002", "execution"}},
        .alert_weight = 3, .gen_weight = 4,
    },
    [S_TI] = {
        .title = "Threat intel: lookalike domain {dom} registered",
        .desc = "Brand monitoring reports {dom}, registered two days ago, MX records set, "
                "resolving to {ip}. Likely staging for phishing against us.",
        .tags = "threat-intel,lookalike,brand", .techs = "T1583.001", .sev = VG_SEV_INFO,
        .hosts = "TI", .tlp = "GREEN",
        .pool = {"dom=corp-examp1e.test;ip=203.0.113.9", "dom=micros0ft-login.example;ip=203.0.113.45",
                 "dom=corp-example-sso.test;ip=198.51.100.201"},
        .alerts = {
            {.source = "misp", .rule = "newly-registered-lookalike",
             .title = "Newly registered lookalike domain {dom}", .detail = "{dom}",
             .a1 = "brand-monitoring", .a2 = "NameSilo-like registrar", .tech = "T1583.001",
             .sev = VG_SEV_INFO, .raw = RAW_TI, .ents = E_DOM | E_IP},
        },
        .arts = {{"domain", "{dom}", true, true}, {"ip", "{ip}", true, true}},
        .tasks = {{P_ID, "Check MX and web content of {dom}"},
                  {P_CONT, "Add {dom} to the mail gateway and proxy block lists"},
                  {P_LL, "Request a takedown through the brand protection vendor"}},
        .triage = "{dom}: registered 2 days ago, MX set, no web content yet. Resolves to {ip}.",
        .contain = "Blocked on the mail gateway and proxy; takedown requested.",
        .close = "Blocked proactively, takedown in progress. Closing as true positive.",
        .hold = "Waiting for the brand protection vendor's answer on the takedown.",
        .benign = "Defensive registration by our brand protection vendor. Closing as benign.",
        .alert_weight = 1, .gen_weight = 4,
    },
    [S_USB] = {
        .title = "Unknown USB mass storage device on {host}",
        .desc = "A USB mass storage device (VID 0781 PID 5583) not in the asset register was "
                "mounted on {host} by {user}; 38 files copied to it.",
        .tags = "usb,dlp,noise", .techs = "T1052.001", .sev = VG_SEV_LOW, .quiet = true,
        .hosts = "FIN-WS,HR-LT,LEG-WS", .tlp = "GREEN", .pool = {""},
        .alerts = {
            {.source = "defender", .rule = "RemovableStorageFileEvent",
             .title = "Files copied to unapproved USB device on {host}",
             .detail = "E:\\Quarterly_Review.pptx", .a1 = "explorer.exe", .a2 = "explorer.exe",
             .tech = "T1052.001", .sev = VG_SEV_LOW, .raw = RAW_DEFENDER,
             .ents = E_HOST | E_USER},
        },
        .arts = {{"hostname", "{host}", false, true}, {"user", "{user}", false, true},
                 {"other", "USB VID_0781&PID_5583 serial 4C530001231017115283", false, true}},
        .tasks = {{P_ID, "Ask {user} what the device is and what was copied"}},
        .triage = "SanDisk stick, 38 files, all from {user}'s own Documents\\Presentations.",
        .benign = "{user} was preparing the board deck for an offsite presenter laptop; device "
                  "now registered. Closing as benign.",
        .alert_weight = 1, .gen_weight = 4,
    },
};

/* Noise in the inbox: what an analyst triages without opening a case. */
static const alert_tpl NOISE[] = {
    {.source = "suricata", .rule = "2010935",
     .title = "ET SCAN Suspicious inbound to MSSQL port 1433 from {ip}",
     .detail = "ET SCAN Suspicious inbound to MSSQL port 1433", .a1 = "tcp", .a2 = "1433",
     .tech = "T1046", .sev = VG_SEV_LOW, .raw = RAW_SURICATA, .ents = E_IP | E_LIP,
     .src = V_IP, .dst = V_LIP, .burst = 40},
    {.source = "wazuh", .rule = "5710",
     .title = "sshd: attempt to login using a non-existent user from {ip}",
     .detail = "Invalid user {auser} from {ip} port {an}", .a1 = "/var/log/secure",
     .a2 = "sshd", .tech = "T1110.001", .sev = VG_SEV_LOW, .raw = RAW_WAZUH,
     .ents = E_HOST | E_IP, .src = V_IP, .burst = 25, .vary_user = true},
    {.source = "azuread", .rule = "unfamiliarFeatures",
     .title = "Unfamiliar sign-in properties for {user}", .detail = "0", .a1 = "OfficeHome",
     .a2 = "Browser", .tech = "T1078", .sev = VG_SEV_MEDIUM, .raw = RAW_SIGNIN,
     .ents = E_USER | E_IP, .src = V_IP},
    {.source = "defender", .rule = "PUA:Win32/Presenoker",
     .title = "Potentially unwanted application blocked on {host}",
     .detail = "C:\\Users\\Public\\Downloads\\pdf_setup.exe", .a1 = "pdf_setup.exe",
     .a2 = "msedge.exe", .tech = "T1204.002", .sev = VG_SEV_LOW, .raw = RAW_DEFENDER,
     .ents = E_HOST | E_USER | E_HASH},
    {.source = "elastic", .rule = "unusual-parent-child",
     .title = "Unusual process: EXCEL.EXE spawned cmd.exe on {host}",
     .detail = "cmd.exe /c echo %TEMP%", .a1 = "cmd.exe", .a2 = "EXCEL.EXE", .tech = "T1059.003",
     .sev = VG_SEV_MEDIUM, .raw = RAW_ELASTIC, .ents = E_HOST | E_USER},
    {.source = "proofpoint", .rule = "user-reported-phish",
     .title = "User-reported phish from {sender}", .detail = "Action required: mailbox quota",
     .a1 = "phish", .a2 = "reported", .tech = "T1566.002", .sev = VG_SEV_MEDIUM,
     .raw = RAW_EMAIL, .ents = E_USER | E_SENDER | E_URL, .src = V_IP},
    {.source = "wazuh", .rule = "550", .title = "Integrity checksum changed: /etc/hosts on {host}",
     .detail = "File '/etc/hosts' modified. Mode: scheduled", .a1 = "syscheck",
     .a2 = "syscheck_integrity_changed", .tech = "T1565.001", .sev = VG_SEV_LOW,
     .raw = RAW_WAZUH, .ents = E_HOST},
    {.source = "suricata", .rule = "2013028", .title = "ET POLICY curl User-Agent Outbound",
     .detail = "ET POLICY curl User-Agent Outbound", .a1 = "http", .a2 = "80", .tech = "T1071.001",
     .sev = VG_SEV_INFO, .raw = RAW_SURICATA, .ents = E_HOST | E_LIP, .src = V_LIP, .dst = V_IP},
    {.source = "o365", .rule = "AnonymousLinkCreated",
     .title = "Anonymous sharing link created by {user}", .detail = "AnonymousLinkCreated",
     .a1 = "AnonymousLinkCreated", .a2 = "OneDrive", .tech = "T1567", .sev = VG_SEV_LOW,
     .raw = RAW_O365, .ents = E_USER, .src = V_LIP},
    {.source = "misp", .rule = "newly-registered-lookalike",
     .title = "Newly registered lookalike domain {dom}", .detail = "{dom}",
     .a1 = "brand-monitoring", .a2 = "NameSilo-like registrar", .tech = "T1583.001",
     .sev = VG_SEV_INFO, .raw = RAW_TI, .ents = E_DOM | E_IP},
};
#define NNOISE (sizeof NOISE / sizeof *NOISE)

/* ---- the hand-made month ----------------------------------------------------------- */

typedef struct hand {
    int scen, day, hour, sev, status, res;
    const char *who; /* assignee; NULL: still unassigned, opened by automation */
    const char *spec;
} hand;

enum { R_NONE = -1, R_TP, R_FP, R_BENIGN, R_DUP, R_INDET };
enum { ST_NEW, ST_PROG, ST_HOLD, ST_CONT, ST_CLOSED }; /* VG_STATUS order */
enum { SV_INFO, SV_LOW, SV_MED, SV_HIGH, SV_CRIT };

/* In calendar order, so refs rise with time. Day 0 is 30 days before now. */
static const hand HAND[] = {
    {S_FP_SCAN, 0, 1, SV_MED, ST_CLOSED, R_FP, "alice", "host=WEB-DMZ-02;lip=10.20.0.15;n=1290;ticket=CHG-4711"},
    {S_WEBSHELL, 1, 3, SV_CRIT, ST_CLOSED, R_TP, "bob", "host=WEB-DMZ-01;file=cmd.aspx;ip=198.51.100.61;lip=10.30.1.11"},
    {S_FP_ADMIN, 2, 10, SV_MED, ST_CLOSED, R_BENIGN, "chen", "host=IT-SRV-003;user=o.adeyemi@corp.example;ticket=CHG-4755"},
    {S_PHISH, 3, 8, SV_HIGH, ST_CLOSED, R_TP, "alice", "host=FIN-WS-042;user=j.smith@corp.example;n=14"},
    {S_PHISH, 3, 9, SV_HIGH, ST_CONT, R_NONE, "bob", "host=FIN-WS-051;user=p.ortiz@corp.example;sender=billing@d0cusign-notify.example;n=14"},
    {S_PHISH, 3, 10, SV_MED, ST_CLOSED, R_TP, "chen", "host=HR-LT-017;user=a.okafor@corp.example;n=14"},
    {S_PHISH, 4, 9, SV_MED, ST_PROG, R_NONE, "dana", "host=SALES-LT-088;user=m.garcia@corp.example;sender=billing@d0cusign-notify.example;n=9"},
    {S_PHISH, 4, 13, SV_LOW, ST_CLOSED, R_DUP, "emeka", "host=LEG-WS-009;user=l.dubois@corp.example;dup=#4"},
    {S_SPRAY, 5, 2, SV_MED, ST_CLOSED, R_TP, "bob", "app=GlobalProtect VPN;ip=198.51.100.23;ip2=198.51.100.24;host=VPN-GW-01;lip=10.0.0.10;n=412;n2=1380"},
    {S_SPRAY, 5, 6, SV_HIGH, ST_CONT, R_NONE, "alice", "app=Microsoft 365;ip=198.51.100.24;ip2=203.0.113.77;n=297;n2=905"},
    {S_TRAVEL, 6, 2, SV_HIGH, ST_CLOSED, R_TP, "chen", "user=r.nguyen@corp.example;city=Lagos;city2=Frankfurt;ip=203.0.113.88;ip2=192.0.2.10;n=38"},
    {S_SPRAY_OK, 6, 3, SV_CRIT, ST_CONT, R_NONE, "alice", "user=r.nguyen@corp.example;ip=198.51.100.24;n=2140"},
    {S_EICAR, 7, 11, SV_INFO, ST_CLOSED, R_BENIGN, "dana", "host=QA-WS-003;user=s.ivanova@corp.example;file=eicar_upload_test.txt;ticket=QA-311"},
    {S_C2, 8, 16, SV_HIGH, ST_CONT, R_NONE, "dana", "host=ENG-WS-118;user=t.berg@corp.example;n2=4"},
    {S_LSASS, 9, 10, SV_HIGH, ST_CLOSED, R_TP, "bob", "host=HR-WS-023;user=hd.kowalski@corp.example;lip=10.10.5.12"},
    {S_RANSOM, 9, 13, SV_CRIT, ST_CONT, R_NONE, "alice", "host=FIN-SRV-007;user=hd.kowalski@corp.example;lip=10.10.8.7"},
    {S_KERBEROAST, 10, 11, SV_HIGH, ST_CONT, R_NONE, "emeka", "host=IT-WS-077;user=k.lindqvist@corp.example;lip=10.10.40.77;n=41"},
    {S_INSIDER, 11, 14, SV_MED, ST_CLOSED, R_BENIGN, "alice", "user=v.fischer@corp.example;host=SALES-LT-090;site=Sales-Playbooks;n=380;n2=210"},
    {S_MFA, 11, 23, SV_HIGH, ST_CLOSED, R_TP, "chen", "user=b.osei@corp.example;ip=203.0.113.150;n=22"},
    {S_OAUTH, 12, 14, SV_MED, ST_PROG, R_NONE, "dana", "user=f.rossi@corp.example;app=Mail Backup Pro;dom=mailbackup-pro.example;n=7"},
    {S_TRAVEL, 13, 9, SV_LOW, ST_CLOSED, R_BENIGN, "alice", "user=g.haddad@corp.example;city=Lisbon;city2=Frankfurt;ip=192.0.2.44;ip2=192.0.2.10;n=55"},
    {S_FP_SCAN, 14, 1, SV_HIGH, ST_CLOSED, R_FP, "emeka", "host=APP-SRV-014;lip=10.20.0.15;ticket=CHG-4790"},
    {S_DNS, 14, 15, SV_LOW, ST_CLOSED, R_FP, "bob", "host=FIN-WS-044;dom=avqs.av-cloud-lookup.test;ip=192.0.2.53;file=avscan.exe"},
    {S_FP_ADMIN, 15, 10, SV_LOW, ST_CLOSED, R_FP, "bob", "host=OPS-SRV-012;user=o.adeyemi@corp.example;ticket=CHG-4768"},
    {S_NEW_ADMIN, 16, 22, SV_HIGH, ST_CLOSED, R_BENIGN, "emeka", "host=DC-01;user=o.adeyemi@corp.example;acct=svc_backup2;ticket=CHG-4802"},
    {S_RDP, 17, 4, SV_MED, ST_CLOSED, R_TP, "chen", "host=JUMP-01;ip=203.0.113.200;n=5120"},
    {S_MALDOC, 18, 9, SV_HIGH, ST_CLOSED, R_TP, "alice", "host=SALES-LT-102;user=c.mendes@corp.example"},
    {S_DNS, 19, 11, SV_MED, ST_HOLD, R_NONE, "dana", "host=ENG-WS-131;n=6400;n2=820"},
    {S_MALDOC, 20, 10, SV_HIGH, ST_HOLD, R_NONE, "chen", "host=HR-LT-022;user=i.bauer@corp.example;file=Resume_J_Carter.docm;sender=j.carter.cv@mailbox.example;dom=cv-share.test;ip=198.51.100.145"},
    {S_INSIDER, 20, 17, SV_HIGH, ST_HOLD, R_NONE, "emeka", "user=d.keller@corp.example;host=FIN-LT-033;site=Finance-Forecasts;n=4212;n2=1840"},
    {S_TI, 21, 8, SV_INFO, ST_CLOSED, R_TP, "emeka", "dom=corp-examp1e.test;ip=203.0.113.9"},
    {S_PHISH, 22, 9, SV_MED, ST_NEW, R_NONE, NULL, "host=ENG-WS-118;user=t.berg@corp.example"},
    {S_USB, 22, 14, SV_LOW, ST_CLOSED, R_BENIGN, "bob", "host=FIN-WS-060;user=h.yilmaz@corp.example"},
    {S_C2, 23, 15, SV_MED, ST_PROG, R_NONE, "chen", "host=MKT-LT-033;user=y.sato@corp.example;dom=cdn-metrics.test;ip=198.51.100.99;file=updsvc.exe;n2=2"},
    {S_SPRAY, 24, 3, SV_LOW, ST_CLOSED, R_BENIGN, "alice", "app=GlobalProtect VPN;ip=192.0.2.200;ip2=192.0.2.201;ticket=PT-2024-09"},
    {S_SPRAY_OK, 25, 2, SV_HIGH, ST_CLOSED, R_INDET, "bob", "user=w.ahmed@corp.example;ip=203.0.113.77;n=310"},
    {S_RANSOM, 25, 20, SV_CRIT, ST_PROG, R_NONE, "bob", "host=OPS-SRV-021;user=svc_deploy@corp.example;dom=cdn-update-check.test;ip=198.51.100.201;file=C:\\Users\\Public\\wdupd.dll"},
    {S_WEBSHELL, 26, 4, SV_MED, ST_CLOSED, R_FP, "emeka", "host=WEB-DMZ-03;file=diag.aspx;ip=203.0.113.31;ticket=CHG-4844"},
    {S_LSASS, 26, 11, SV_HIGH, ST_NEW, R_NONE, NULL, "host=HR-WS-031;user=hd.alvarez@corp.example;lip=10.10.5.13"},
    {S_KERBEROAST, 27, 9, SV_MED, ST_NEW, R_NONE, NULL, "host=IT-WS-081;user=m.novak@corp.example;lip=10.10.40.81;n=12"},
    {S_TRAVEL, 27, 13, SV_MED, ST_HOLD, R_NONE, "bob", "user=n.petrov@corp.example;city=S\xc3\xa3o Paulo;city2=Dublin;ip=203.0.113.19;ip2=198.51.100.140;n=71"},
    {S_FP_SCAN, 28, 1, SV_LOW, ST_NEW, R_NONE, NULL, "host=WEB-DMZ-02;lip=10.20.0.15"},
    {S_MFA, 28, 8, SV_HIGH, ST_PROG, R_NONE, "dana", "user=e.nakamura@corp.example;ip=198.51.100.77;n=31"},
    {S_OAUTH, 28, 15, SV_LOW, ST_CLOSED, R_BENIGN, "chen", "user=r.costa@corp.example;app=NewsletterHub;dom=newsletterhub.example"},
    {S_RDP, 29, 2, SV_MED, ST_PROG, R_NONE, "emeka", "host=JUMP-02;ip=198.51.100.180;n=860"},
    {S_EICAR, 29, 10, SV_INFO, ST_NEW, R_NONE, NULL, "host=QA-WS-007;user=s.ivanova@corp.example;file=eicar.com"},
    {S_TI, 29, 12, SV_INFO, ST_NEW, R_NONE, NULL, "dom=micros0ft-login.example;ip=203.0.113.45"},
    {S_C2, 29, 16, SV_HIGH, ST_NEW, R_NONE, NULL, "host=ENG-WS-140;user=u.kim@corp.example"},
};
#define NHAND ((int64_t)(sizeof HAND / sizeof *HAND))

/* ---- a case's plan ------------------------------------------------------------------- */

typedef struct plan {
    int scen, sev, sev0, status, res, who; /* who: TEAM index, -1 unassigned */
    int pool;                              /* variant index into scenario.pool */
    int64_t start, dur;
    int trig;                              /* alerts that arrive before the case exists */
    const char *spec;                      /* hand-made overrides */
    uint32_t weight;                       /* share of the alert budget */
} plan;

static int team_index(const char *name)
{
    for (int i = 0; i < NTEAM; i++)
        if (strcmp(TEAM[i], name) == 0)
            return i;
    return -1;
}

static int pool_size(const scenario *s)
{
    int n = 0;
    while (n < (int)NELEM(s->pool) && s->pool[n])
        n++;
    return n ? n : 1;
}

/* How long the case's visible life lasts for its status, never past now. */
static int64_t plan_dur(rng *r, int status, bool quiet, int64_t age)
{
    int64_t d;
    switch (status) {
    case ST_NEW: d = rr(r, 5 * MIN_MS, 90 * MIN_MS); break;
    case ST_PROG: d = rr(r, 2 * HOUR_MS, 36 * HOUR_MS); break;
    case ST_HOLD: d = rr(r, 20 * HOUR_MS, 5 * DAY_MS); break;
    case ST_CONT: d = rr(r, 4 * HOUR_MS, 3 * DAY_MS); break;
    default: d = quiet ? rr(r, 20 * MIN_MS, 20 * HOUR_MS) : rr(r, 8 * HOUR_MS, 5 * DAY_MS);
    }
    int64_t cap = age * 8 / 10;
    if (d > cap)
        d = cap;
    return d < 2 * MIN_MS ? 2 * MIN_MS : d;
}

static uint64_t case_seed(uint64_t seed, int64_t i)
{
    return mix64(seed ^ mix64((uint64_t)i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

/* The plan of case i, from its own random stream r (seeded from the seed and i). */
static void make_plan(int64_t i, int64_t ncases, int64_t now, rng *r, plan *p)
{
    int64_t month0 = now - MONTH_MS;
    memset(p, 0, sizeof *p);
    if (i < NHAND) {
        const hand *h = &HAND[i];
        p->scen = h->scen;
        p->sev = h->sev;
        p->status = h->status;
        p->res = h->res;
        p->who = h->who ? team_index(h->who) : -1;
        p->spec = h->spec;
        p->start = month0 + h->day * DAY_MS + h->hour * HOUR_MS + rr(r, 0, 55 * MIN_MS);
        p->trig = 1;
    } else {
        int total = 0;
        for (int s = 0; s < S__COUNT; s++)
            total += SCEN[s].gen_weight;
        int pick = (int)rr(r, 0, total - 1);
        for (p->scen = 0; pick >= SCEN[p->scen].gen_weight; p->scen++)
            pick -= SCEN[p->scen].gen_weight;
        const scenario *s = &SCEN[p->scen];
        int64_t span = MONTH_MS - 25 * MIN_MS, slots = ncases - NHAND;
        p->start = month0 + (int64_t)((double)span * (double)(i - NHAND) / (double)slots) +
                   rr(r, 0, span / slots); /* slot_start(i) and up */
        int64_t age = now - p->start;
        int x = (int)rr(r, 0, 99);
        if (age < 4 * HOUR_MS)
            p->status = x < 70 ? ST_NEW : ST_PROG;
        else if (age < 2 * DAY_MS)
            p->status = x < 20 ? ST_NEW : x < 60 ? ST_PROG : x < 70 ? ST_HOLD
                      : x < 80 ? ST_CONT : ST_CLOSED;
        else
            p->status = x < 2 ? ST_NEW : x < 9 ? ST_PROG : x < 15 ? ST_HOLD
                      : x < 22 ? ST_CONT : ST_CLOSED;
        if (s->quiet && (p->status == ST_CONT || p->status == ST_HOLD))
            p->status = ST_CLOSED;
        x = (int)rr(r, 0, 99);
        p->res = R_NONE;
        int not_malicious = s->fp ? R_FP : R_BENIGN; /* what its closing note says */
        if (p->status == ST_CLOSED)
            p->res = s->quiet ? not_malicious
                   : x < 68 ? R_TP : x < 88 ? not_malicious : x < 96 ? R_DUP : R_INDET;
        int sev = s->sev + (x % 5 == 0) - (x % 7 == 0);
        if (s->quiet && p->res == R_NONE && sev > SV_MED)
            sev = SV_MED;
        p->sev = sev < SV_INFO ? SV_INFO : sev > SV_CRIT ? SV_CRIT : sev;
        p->who = p->status == ST_NEW && chance(r, 60) ? -1 : (int)rr(r, 0, NTEAM - 1);
        p->pool = (int)rr(r, 0, pool_size(s) - 1);
        p->trig = chance(r, 35);
    }
    const scenario *s = &SCEN[p->scen];
    p->sev0 = p->sev;
    if (p->sev >= SV_HIGH && !s->quiet && p->status != ST_NEW && chance(r, 50))
        p->sev0 = p->sev - 1; /* opened lower, escalated once the scope was clear */
    p->dur = plan_dur(r, p->status, s->quiet || (p->res != R_TP && p->res != R_NONE),
                      now - p->start);
    uint32_t w = (uint32_t)s->alert_weight * 100;
    if (i >= NHAND)
        w = (uint32_t)(w * (uint32_t)rr(r, 40, 200) / 100);
    p->weight = w ? w : 1;
}

/* ---- the generator ------------------------------------------------------------------- */

typedef struct gen {
    vg_ws *ws;
    const vg_demo_opts *o;
    vg_err *err;
    vg_demo_stats st;
    uint64_t ids;        /* vg_ulid_seeded state: every id of the build */
    vg_id origin;        /* the demo replica */
    vg_op op;            /* the op being built; reused */
    uint64_t ctr;        /* HLC counter bits */
    int64_t in_batch;
    int64_t now, month0;
    uint64_t alert_seq;  /* makes source refs unique */
    uint64_t ref_salt;
    rng noise;           /* inbox alerts */
    vars nv;             /* scratch variables for inbox alerts */
    int64_t last_ref[S__COUNT];
    /* Inbox noise not yet written: held until no later case can add to its window. */
    struct held *held;
    size_t nheld, held_cap;
    uint64_t held_n;     /* generation order, so equal times sort the same way */
    int64_t inbox_cut;   /* noise recorded before this has been written */
    int64_t pull_ms;     /* the last inbox alert.import's time */
} gen;

/* An inbox alert waiting for its window's alert.import, and what happens to it after. */
typedef struct held {
    int64_t rec;       /* when its source recorded it */
    uint64_t n;
    cJSON *el;         /* owned; the element of the alert.import */
    vg_id id;
    int64_t dismiss;   /* dismissed this long after it arrived; 0: left in the inbox */
    const char *who;
} held;

/* Start building op kind on target (NULL: the op's own id), recorded at ms by actor. */
static void op_start(gen *g, const char *kind, const char *target, int64_t ms, const char *actor)
{
    vg_op *op = &g->op;
    memset(op->kind, 0, sizeof op->kind);
    memcpy(op->kind, kind, strlen(kind));
    vg_ulid_seeded(ms, &g->ids, op->id);
    memcpy(op->target, target ? target : op->id, sizeof op->target);
    op->hlc = VG_HLC(ms, g->ctr++);
    memcpy(op->origin, g->origin, sizeof op->origin);
    op->actor = vg_xstrdup(actor);
    op->tenant = NULL;
    op->payload = cJSON_CreateObject();
    op->seq = 0;
}

/* Apply the op being built, then free its parts; count it, and its rows in *counter
 * (which may be NULL), before a commit reports the totals; commit every BATCH_ROWS
 * rows. */
static vg_rc op_put_rows(gen *g, int64_t *counter, int64_t rows)
{
    vg_rc rc = vg_apply(g->ws, &g->op, g->err);
    cJSON_Delete(g->op.payload);
    g->op.payload = NULL;
    free(g->op.actor);
    g->op.actor = NULL;
    if (rc)
        return rc;
    g->st.ops++;
    if (counter)
        *counter += rows;
    if ((g->in_batch += rows) >= BATCH_ROWS) {
        if ((rc = vg_batch_commit(g->ws, g->err)))
            return rc;
        g->in_batch = 0;
        if (g->o->progress)
            g->o->progress(g->o->ud, g->st.ops, g->st.alerts);
        if ((rc = vg_batch_begin(g->ws, g->err)))
            return rc;
    }
    return VG_OK;
}

static vg_rc op_put(gen *g, int64_t *counter)
{
    return op_put_rows(g, counter, 1);
}

/* One alert.import of n alerts (the array, which it takes), recorded at ms. Its
 * actor is the automation that ingests, as a local import's is whoever ran it. */
static vg_rc import_put(gen *g, cJSON *alerts, int64_t n, int64_t ms)
{
    op_start(g, "alert.import", NULL, ms, "vigil-demo");
    cJSON_AddItemToObject(g->op.payload, "alerts", alerts);
    return op_put_rows(g, &g->st.alerts, n);
}

static void add_list(cJSON *obj, const char *key, const char *csv, const char *extra)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    while (csv && *csv) {
        size_t n = strcspn(csv, ",");
        char item[64];
        if (n && n < sizeof item) {
            memcpy(item, csv, n);
            item[n] = '\0';
            cJSON_AddItemToArray(arr, cJSON_CreateString(item));
        }
        csv += n + (csv[n] == ',');
    }
    if (extra && *extra)
        cJSON_AddItemToArray(arr, cJSON_CreateString(extra));
}

static void hhmm(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%02d:%02d", tm.tm_hour % 24, tm.tm_min % 60);
}

static void iso_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* A GUID-looking string whose first 64 bits are unique per u. */
static void guid(uint64_t u, uint64_t r, char *out, size_t n)
{
    snprintf(out, n, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(u >> 32),
             (unsigned)((u >> 16) & 0xffff), (unsigned)(u & 0xffff), (unsigned)(r & 0xffff),
             (unsigned long long)((r >> 16) & 0xffffffffffffULL));
}

static void add_expanded(cJSON *o, const char *key, const char *tpl, const vars *v)
{
    char buf[512];
    expand(tpl ? tpl : "", v, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

/* The source's own record of the event: about 8-10 fields shaped like the tool's. */
static void build_raw(cJSON *raw, const alert_tpl *a, const vars *v, int64_t t, uint64_t u,
                      rng *r)
{
    u = mix64(u ^ 0x5bd1e9955bd1e995ULL); /* unrelated to the source_ref made from u */
    char ts[80], buf[64];
    static const int levels[] = {3, 5, 8, 10, 12};
    iso_time(t, ts, sizeof ts);
    const char *src = a->src ? v->v[a->src] : v->v[V_IP];
    const char *dst = a->dst ? v->v[a->dst] : v->v[V_LIP];
    const char *user = a->vary_user ? v->v[V_AUSER] : v->v[V_USER];
    switch (a->raw) {
    case RAW_WAZUH:
        cJSON_AddStringToObject(raw, "timestamp", ts);
        cJSON_AddStringToObject(raw, "rule.id", a->rule);
        cJSON_AddNumberToObject(raw, "rule.level", levels[a->sev]);
        add_expanded(raw, "rule.description", a->title, v);
        cJSON_AddStringToObject(raw, "agent.name", v->v[V_HOST]);
        if (a->src)
            cJSON_AddStringToObject(raw, "data.srcip", src);
        if (a->ents & (E_USER | E_AUSER))
            cJSON_AddStringToObject(raw, "data.dstuser", user);
        cJSON_AddStringToObject(raw, "location", a->a1);
        cJSON_AddStringToObject(raw, "decoder.name", a->a2);
        add_expanded(raw, "full_log", a->detail, v);
        break;
    case RAW_SURICATA:
        cJSON_AddStringToObject(raw, "timestamp", ts);
        cJSON_AddNumberToObject(raw, "flow_id", (double)(u & 0xfffffffffffffULL));
        cJSON_AddStringToObject(raw, "event_type", "alert");
        cJSON_AddStringToObject(raw, "src_ip", src);
        cJSON_AddNumberToObject(raw, "src_port", (double)rr(r, 1025, 65535));
        cJSON_AddStringToObject(raw, "dest_ip", dst);
        cJSON_AddNumberToObject(raw, "dest_port", (double)strtol(a->a2, NULL, 10));
        cJSON_AddStringToObject(raw, "proto", strcmp(a->a1, "dns") == 0 ? "UDP" : "TCP");
        cJSON_AddStringToObject(raw, "app_proto", a->a1);
        cJSON_AddNumberToObject(raw, "alert.signature_id", (double)strtol(a->rule, NULL, 10));
        add_expanded(raw, "alert.signature", a->detail, v);
        if (v->v[V_DOM][0] && (a->ents & E_DOM))
            cJSON_AddStringToObject(raw, strcmp(a->a1, "dns") == 0 ? "dns.rrname" : "tls.sni",
                                    v->v[V_DOM]);
        break;
    case RAW_ELASTIC:
        cJSON_AddStringToObject(raw, "@timestamp", ts);
        cJSON_AddStringToObject(raw, "host.name", v->v[V_HOST]);
        cJSON_AddStringToObject(raw, "user.name", v->v[V_UID]);
        add_expanded(raw, "process.name", a->a1, v);
        add_expanded(raw, "process.command_line", a->detail, v);
        add_expanded(raw, "process.parent.name", a->a2, v);
        cJSON_AddNumberToObject(raw, "process.pid", (double)rr(r, 400, 24000));
        cJSON_AddStringToObject(raw, "event.action", "start");
        cJSON_AddStringToObject(raw, "kibana.alert.rule.name", a->rule);
        cJSON_AddNumberToObject(raw, "kibana.alert.risk_score", levels[a->sev] * 8 + 1);
        break;
    case RAW_DEFENDER:
        snprintf(buf, sizeof buf, "da%016llx_%d", (unsigned long long)u,
                 (int)rr(r, 100000000, 2000000000));
        cJSON_AddStringToObject(raw, "AlertId", buf);
        cJSON_AddStringToObject(raw, "Timestamp", ts);
        cJSON_AddStringToObject(raw, "DeviceName", v->v[V_HOST]);
        cJSON_AddStringToObject(raw, "AccountName", v->v[V_UID]);
        cJSON_AddStringToObject(raw, "ActionType", a->rule);
        add_expanded(raw, "FileName", a->a1, v);
        cJSON_AddStringToObject(raw, "SHA256", v->v[V_HASH]);
        add_expanded(raw, "ProcessCommandLine", a->detail, v);
        add_expanded(raw, "InitiatingProcessFileName", a->a2, v);
        break;
    case RAW_SIGNIN:
        guid(u, rnd(r), buf, sizeof buf);
        cJSON_AddStringToObject(raw, "CorrelationId", buf);
        cJSON_AddStringToObject(raw, "TimeGenerated", ts);
        cJSON_AddStringToObject(raw, "UserPrincipalName", user);
        cJSON_AddStringToObject(raw, "IPAddress", src);
        cJSON_AddStringToObject(raw, "Location", v->v[V_CITY]);
        cJSON_AddStringToObject(raw, "ResultType", a->detail);
        add_expanded(raw, "AppDisplayName", a->a1, v);
        cJSON_AddStringToObject(raw, "ClientAppUsed", a->a2);
        cJSON_AddStringToObject(raw, "ConditionalAccessStatus",
                                strcmp(a->detail, "0") == 0 ? "notApplied" : "failure");
        break;
    case RAW_O365:
        guid(u, rnd(r), buf, sizeof buf);
        cJSON_AddStringToObject(raw, "Id", buf);
        cJSON_AddStringToObject(raw, "CreationTime", ts);
        cJSON_AddStringToObject(raw, "Operation", a->a1);
        cJSON_AddStringToObject(raw, "Workload", a->a2);
        cJSON_AddStringToObject(raw, "UserId", v->v[V_USER]);
        cJSON_AddStringToObject(raw, "ClientIP", src);
        if (v->v[V_SITE][0])
            add_expanded(raw, "SiteUrl", "https://corp.sharepoint.example/sites/{site}/", v);
        cJSON_AddNumberToObject(raw, "RecordType", strcmp(a->a2, "SharePoint") == 0 ? 6 : 2);
        cJSON_AddStringToObject(raw, "UserAgent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
        break;
    case RAW_EMAIL:
        guid(u, rnd(r), buf, sizeof buf);
        cJSON_AddStringToObject(raw, "GUID", buf);
        cJSON_AddStringToObject(raw, "messageTime", ts);
        cJSON_AddStringToObject(raw, "sender", v->v[V_SENDER]);
        cJSON_AddStringToObject(raw, "recipient", v->v[V_USER]);
        add_expanded(raw, "subject", a->detail, v);
        cJSON_AddStringToObject(raw, "senderIP", src);
        cJSON_AddStringToObject(raw, "url", v->v[V_URL]);
        cJSON_AddStringToObject(raw, "classification", a->a1);
        cJSON_AddStringToObject(raw, "clickStatus", a->a2);
        break;
    default: /* RAW_TI */
        cJSON_AddStringToObject(raw, "feed", a->a1);
        cJSON_AddStringToObject(raw, "domain", v->v[V_DOM]);
        cJSON_AddStringToObject(raw, "resolved_ip", v->v[V_IP]);
        cJSON_AddStringToObject(raw, "registrar", a->a2);
        cJSON_AddStringToObject(raw, "first_seen", ts);
        cJSON_AddNumberToObject(raw, "similarity", (double)rr(r, 82, 97) / 100.0);
        cJSON_AddBoolToObject(raw, "mx_record", true);
        break;
    }
}

/* One alert, as an element of an alert.import ({id, <its alert.add payload>}): event
 * at ev, recorded by its source at rec, a little later. case_id NULL: inbox. The
 * new alert's id is written to out (may be NULL). The caller owns the element. */
static cJSON *alert_el(gen *g, const alert_tpl *a, vars *v, rng *r, int64_t ev, int64_t rec,
                       const char *case_id, vg_id out)
{
    char buf[512];
    vg_id target;
    uint64_t seq = g->alert_seq++, u = seq ^ g->ref_salt;
    if (a->vary_user)
        rand_user(r, v->v[V_AUSER], sizeof v->v[V_AUSER]);
    snprintf(v->v[V_AN], sizeof v->v[V_AN], "%d", (int)rr(r, 1025, 65535));
    vg_ulid_seeded(rec, &g->ids, target);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", target);
    cJSON_AddStringToObject(p, "source", a->source);
    /* Source refs are unique by construction, since a repeat would be refused as a
     * duplicate: Wazuh's "epoch.offset" with a rising offset into alerts.json,
     * Suricata's flow id as a bijection of the counter on 52 bits, and GUIDs whose first
     * 64 bits are a bijection of it. */
    if (strcmp(a->source, "wazuh") == 0) {
        snprintf(buf, sizeof buf, "%lld.%llu", (long long)(ev / 1000),
                 (unsigned long long)(seq * 1187 + g->ref_salt % 1000003));
    } else if (strcmp(a->source, "suricata") == 0) {
        const uint64_t m52 = (1ULL << 52) - 1;
        uint64_t f = ((u & m52) * 0x9e3779b97f4a7c15ULL) & m52;
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)(f ^ (f >> 26)));
    } else {
        guid(mix64(u), rnd(r), buf, sizeof buf);
    }
    cJSON_AddStringToObject(p, "source_ref", buf);
    cJSON_AddStringToObject(p, "rule", a->rule);
    expand(a->title, v, buf, sizeof buf);
    cJSON_AddStringToObject(p, "title", buf);
    cJSON_AddStringToObject(p, "severity", VG_SEVERITY.names[a->sev]);
    cJSON_AddNumberToObject(p, "event_time", (double)ev);
    if (a->burst > 1) {
        int64_t count = rr(r, 2, a->burst);
        int64_t first = ev - count * rr(r, 20, 90) * SEC_MS;
        cJSON_AddNumberToObject(p, "first_seen", (double)(first > g->month0 ? first : g->month0));
        cJSON_AddNumberToObject(p, "last_seen", (double)ev);
        cJSON_AddNumberToObject(p, "count", (double)count);
    }
    if (case_id)
        cJSON_AddStringToObject(p, "case", case_id);
    cJSON *e = cJSON_AddObjectToObject(p, "entities");
    if ((a->ents & E_HOST) && v->v[V_HOST][0])
        cJSON_AddStringToObject(e, "host", v->v[V_HOST]);
    if (a->ents & (E_USER | E_AUSER))
        cJSON_AddStringToObject(e, "user", v->v[(a->ents & E_AUSER) ? V_AUSER : V_USER]);
    if (a->ents & E_IP)
        cJSON_AddStringToObject(e, "src_ip", a->src ? v->v[a->src] : v->v[V_IP]);
    if ((a->ents & E_LIP) && !(a->ents & E_IP))
        cJSON_AddStringToObject(e, "src_ip", v->v[V_LIP]);
    if (a->ents & E_DOM)
        cJSON_AddStringToObject(e, "domain", v->v[V_DOM]);
    if (a->ents & E_URL)
        cJSON_AddStringToObject(e, "url", v->v[V_URL]);
    if (a->ents & E_SENDER)
        cJSON_AddStringToObject(e, "sender", v->v[V_SENDER]);
    if (a->ents & E_HASH)
        cJSON_AddStringToObject(e, "sha256", v->v[V_HASH]);
    if (a->ents & E_FILE)
        cJSON_AddStringToObject(e, "file", v->v[V_FILE]);
    add_list(p, "techniques", a->tech, NULL);
    build_raw(cJSON_AddObjectToObject(p, "raw"), a, v, ev, u, r);
    if (out)
        memcpy(out, target, sizeof target);
    return p;
}

/* ---- one case, written as its story unfolds ---------------------------------------- */

typedef struct kase {
    plan p;
    const scenario *s;
    vars v;
    rng r;
    vg_id id;
    int64_t ref;
    const char *who;      /* assignee name ("" unassigned) */
    bool rich;            /* hand-made: the whole playbook; generated cases are leaner */
    int64_t clock, limit; /* last action time; nothing after limit */
    /* the alert stream linked to the case */
    int64_t n_alerts, a_done, a_t0, a_span, next_ev, next_rec;
    int64_t first_alert;
    /* tasks as added */
    int ntasks;
    vg_id task_id[9];
    int task_phase[9], task_status[9];
    char task_title[9][160];
    const char *task_who[9];
} kase;

static void set_alert_next(kase *k)
{
    if (k->a_done >= k->n_alerts)
        return;
    int64_t step = k->a_span / k->n_alerts;
    k->next_ev = k->a_t0 + k->a_done * step + rr(&k->r, 0, step / 2);
    k->next_rec = k->next_ev + rr(&k->r, 2 * SEC_MS, 90 * SEC_MS);
}

static const alert_tpl *pick_alert(const scenario *s, rng *r)
{
    int n = 0;
    while (n < 3 && s->alerts[n].source)
        n++;
    int x = (int)rr(r, 0, 9);
    int i = n == 1 ? 0 : n == 2 ? (x < 7 ? 0 : 1) : (x < 6 ? 0 : x < 9 ? 1 : 2);
    return &s->alerts[i];
}

/* n of the case's alerts as one alert.import, recorded when the last of them was
 * (ms) and after the case's previous op, which it becomes. */
static vg_rc case_import(gen *g, kase *k, cJSON *alerts, int64_t n, int64_t ms)
{
    if (ms <= k->clock)
        ms = k->clock + 1;
    k->clock = ms;
    return import_put(g, alerts, n, ms);
}

/* Write the case's alerts recorded before t. Those recorded in one PULL_MS window
 * (and, as this is called before each action, between the same two actions) share
 * an alert.import, at most IMPORT_MAX in one. */
static vg_rc flush_alerts(gen *g, kase *k, int64_t t)
{
    cJSON *batch = NULL;
    int64_t n = 0, ms = 0, pull = 0;
    while (k->a_done < k->n_alerts && k->next_rec < t) {
        int64_t rec = k->next_rec;
        if (n && (n >= IMPORT_MAX || rec / PULL_MS != pull)) {
            vg_rc rc = case_import(g, k, batch, n, ms);
            if (rc)
                return rc;
            batch = NULL;
            n = ms = 0;
        }
        if (!batch) {
            batch = cJSON_CreateArray();
            pull = rec / PULL_MS;
        }
        cJSON_AddItemToArray(batch, alert_el(g, pick_alert(k->s, &k->r), &k->v, &k->r,
                                             k->next_ev, rec, k->id, NULL));
        n++;
        if (rec > ms)
            ms = rec;
        k->a_done++;
        set_alert_next(k);
    }
    return n ? case_import(g, k, batch, n, ms) : VG_OK;
}

/* The time of the next action, about permille/1000 through the case's life, after
 * every earlier one; the case's alerts recorded before it are written first. */
static vg_rc act(gen *g, kase *k, int permille, int64_t *t)
{
    int64_t want = k->p.start + k->p.dur * permille / 1000;
    int64_t next = k->clock + rr(&k->r, 20 * SEC_MS, 4 * MIN_MS);
    if (want < next)
        want = next;
    if (want > k->limit)
        want = k->clock + 1;
    vg_rc rc = flush_alerts(g, k, want);
    /* the alerts' op may have taken the last millisecond before want */
    if (want <= k->clock)
        want = k->clock + 1;
    k->clock = *t = want;
    return rc;
}

static vg_rc case_set(gen *g, kase *k, int64_t t, const char *actor, const char *field,
                      const char *value, const char *old, const char *res)
{
    op_start(g, "case.set", k->id, t, actor);
    cJSON_AddStringToObject(g->op.payload, "field", field);
    cJSON_AddStringToObject(g->op.payload, "value", value);
    if (old)
        cJSON_AddStringToObject(g->op.payload, "old", old);
    if (res)
        cJSON_AddStringToObject(g->op.payload, "resolution", res);
    return op_put(g, NULL);
}

static vg_rc status_to(gen *g, kase *k, int64_t t, int to, const char *res, int *cur)
{
    vg_rc rc = case_set(g, k, t, k->who, "status", VG_STATUS.names[to], VG_STATUS.names[*cur],
                        res);
    if (rc == VG_OK)
        *cur = to;
    return rc;
}

static vg_rc note(gen *g, kase *k, int64_t t, const char *actor, const char *tpl)
{
    char body[2048];
    if (!tpl)
        return VG_OK;
    expand(tpl, &k->v, body, sizeof body);
    vg_id nid;
    vg_ulid_seeded(t, &g->ids, nid);
    op_start(g, "note.add", nid, t, actor);
    cJSON_AddStringToObject(g->op.payload, "case", k->id);
    cJSON_AddStringToObject(g->op.payload, "body", body);
    return op_put(g, &g->st.notes);
}

static vg_rc artifacts(gen *g, kase *k, int64_t t, bool light)
{
    int max = light ? 2 : k->rich ? 8 : 4;
    for (int i = 0; i < max && k->s->arts[i].type; i++) {
        const art_tpl *a = &k->s->arts[i];
        char value[512];
        expand(a->value, &k->v, value, sizeof value);
        if (!value[0])
            continue;
        vg_id aid;
        vg_ulid_seeded(t, &g->ids, aid);
        op_start(g, "artifact.add", aid, t, k->who);
        cJSON *p = g->op.payload;
        cJSON_AddStringToObject(p, "case", k->id);
        cJSON_AddStringToObject(p, "type", a->type);
        cJSON_AddStringToObject(p, "value", value);
        if (a->ioc && k->p.res != R_FP && k->p.res != R_BENIGN)
            cJSON_AddBoolToObject(p, "is_ioc", true);
        if (a->from_alert && k->first_alert) {
            cJSON_AddStringToObject(p, "source", "alert");
            cJSON_AddNumberToObject(p, "seen", (double)k->first_alert);
        }
        vg_rc rc = op_put(g, &g->st.artifacts);
        if (rc)
            return rc;
    }
    return VG_OK;
}

static vg_rc tasks_add(gen *g, kase *k, int64_t t, int max_phase)
{
    for (int i = 0; i < 9 && k->s->tasks[i].title; i++) {
        const task_tpl *tt = &k->s->tasks[i];
        if (tt->phase > max_phase || (!k->rich && i > 0 && k->s->tasks[i - 1].phase == tt->phase))
            continue;
        int n = k->ntasks++;
        expand(tt->title, &k->v, k->task_title[n], sizeof k->task_title[n]);
        k->task_phase[n] = tt->phase;
        k->task_status[n] = 0;
        k->task_who[n] = (tt->phase == P_CONT || tt->phase == P_ERAD) && chance(&k->r, 40)
                             ? TEAM[rr(&k->r, 0, NTEAM - 1)] : k->who;
        vg_ulid_seeded(t, &g->ids, k->task_id[n]);
        op_start(g, "task.add", k->task_id[n], t, k->who);
        cJSON *p = g->op.payload;
        cJSON_AddStringToObject(p, "case", k->id);
        cJSON_AddStringToObject(p, "phase", VG_PHASE.names[tt->phase]);
        cJSON_AddStringToObject(p, "title", k->task_title[n]);
        cJSON_AddStringToObject(p, "assignee", k->task_who[n]);
        cJSON_AddStringToObject(p, "playbook", "demo-ir-playbook");
        cJSON_AddNumberToObject(p, "order", n + 1);
        vg_rc rc = op_put(g, &g->st.tasks);
        if (rc)
            return rc;
        k->clock = t++;
    }
    return VG_OK;
}

/* Move every task of phase (all phases when phase < 0) that is not already there to
 * status `to` (a VG_TASK_STATUS index), one action each. */
static vg_rc tasks_to(gen *g, kase *k, int phase, int to, int permille)
{
    for (int i = 0; i < k->ntasks; i++) {
        if ((phase >= 0 && k->task_phase[i] != phase) || k->task_status[i] == to ||
            k->task_status[i] >= 2)
            continue;
        int64_t t;
        vg_rc rc = act(g, k, permille, &t);
        if (rc)
            return rc;
        op_start(g, "task.set", k->task_id[i], t, k->task_who[i][0] ? k->task_who[i] : k->who);
        cJSON *p = g->op.payload;
        cJSON_AddStringToObject(p, "case", k->id);
        cJSON_AddStringToObject(p, "field", "status");
        cJSON_AddStringToObject(p, "value", VG_TASK_STATUS.names[to]);
        cJSON_AddStringToObject(p, "title", k->task_title[i]);
        cJSON_AddStringToObject(p, "old", VG_TASK_STATUS.names[k->task_status[i]]);
        if ((rc = op_put(g, NULL)))
            return rc;
        k->task_status[i] = to;
    }
    return VG_OK;
}

static vg_rc manual_events(gen *g, kase *k, int64_t t)
{
    for (int i = 0; i < 2 && k->s->events[i].summary; i++) {
        const ev_tpl *e = &k->s->events[i];
        char summary[512];
        expand(e->summary, &k->v, summary, sizeof summary);
        int64_t occurred = k->p.start - (int64_t)e->before_min * MIN_MS +
                           rr(&k->r, 0, 10 * MIN_MS);
        if (occurred < g->month0)
            occurred = g->month0;
        if (occurred >= t)
            occurred = t - MIN_MS;
        vg_id eid;
        vg_ulid_seeded(t, &g->ids, eid);
        op_start(g, "event.add", eid, t, k->who);
        cJSON *p = g->op.payload;
        cJSON_AddStringToObject(p, "case", k->id);
        cJSON_AddNumberToObject(p, "occurred_at", (double)occurred);
        cJSON_AddStringToObject(p, "kind", "manual");
        cJSON_AddStringToObject(p, "summary", summary);
        cJSON_AddStringToObject(p, "source", e->source);
        if (e->technique)
            cJSON_AddStringToObject(p, "technique", e->technique);
        if (e->tactic)
            cJSON_AddStringToObject(p, "tactic", e->tactic);
        vg_rc rc = op_put(g, &g->st.events);
        if (rc)
            return rc;
        k->clock = t++;
    }
    return VG_OK;
}

/* Fill the case's variables: generic random ones, then the scenario variant, then the
 * hand-made overrides; finally the things derived from others. */
static void fill_vars(kase *k)
{
    vars *v = &k->v;
    rng *r = &k->r;
    const scenario *s = k->s;
    memset(v, 0, sizeof *v);
    /* host: one of the scenario's prefixes and a number */
    const char *hp = s->hosts;
    int nprefix = 1;
    for (const char *c = hp; *c; c++)
        nprefix += *c == ',';
    int pick = (int)rr(r, 0, nprefix - 1);
    while (pick-- > 0)
        hp = strchr(hp, ',') + 1;
    size_t hl = strcspn(hp, ",");
    snprintf(v->v[V_HOST], sizeof v->v[V_HOST], "%.*s-%03d", (int)hl, hp, (int)rr(r, 1, 240));
    rand_user(r, v->v[V_USER], sizeof v->v[V_USER]);
    rand_ext_ip(r, v->v[V_IP], sizeof v->v[V_IP]);
    rand_ext_ip(r, v->v[V_IP2], sizeof v->v[V_IP2]);
    rand_lip(r, v->v[V_LIP], sizeof v->v[V_LIP]);
    rand_hex(r, v->v[V_HASH], 64);
    int c = (int)rr(r, 0, NCITY - 1);
    vset(v, V_CITY, CITY_PAIRS[c][0]);
    vset(v, V_CITY2, CITY_PAIRS[c][1]);
    vset(v, V_SITE, SITES[rr(r, 0, NSITE - 1)]);
    snprintf(v->v[V_N], sizeof v->v[V_N], "%d", (int)rr(r, s->n_lo, s->n_hi));
    snprintf(v->v[V_N2], sizeof v->v[V_N2], "%d", (int)rr(r, s->n2_lo, s->n2_hi));
    snprintf(v->v[V_TICKET], sizeof v->v[V_TICKET], "CHG-%d", (int)rr(r, 4000, 9999));
    snprintf(v->v[V_ACCT], sizeof v->v[V_ACCT], "svc_%s%d", LAST_NAMES[rr(r, 0, NLAST - 1)],
             (int)rr(r, 1, 9));
    /* invented infrastructure, so a big workspace is not one giant campaign */
    bool invent = k->p.spec == NULL && chance(r, 50);
    if (s->synth == SYN_PHISH && invent) {
        const char *b = BRANDS[rr(r, 0, NELEM(BRANDS) - 1)];
        const char *w = LURE_WORDS[rr(r, 0, NELEM(LURE_WORDS) - 1)];
        const char *tld = chance(r, 50) ? "example" : "test";
        char dom[64];
        snprintf(dom, sizeof dom, "%s-%s.%s", b, w, tld);
        vset(v, V_DOM, dom);
        snprintf(v->v[V_SENDER], sizeof v->v[V_SENDER], "no-reply@%s", dom);
        snprintf(v->v[V_URL], sizeof v->v[V_URL], "https://%s/%s/login.php", dom, w);
    } else if (s->synth == SYN_C2 && invent) {
        apply_spec(v, s->pool[k->p.pool]); /* the implant's file name */
        snprintf(v->v[V_DOM], sizeof v->v[V_DOM], "%s-%s.test", C2_A[rr(r, 0, NELEM(C2_A) - 1)],
                 C2_B[rr(r, 0, NELEM(C2_B) - 1)]);
        rand_ext_ip(r, v->v[V_IP], sizeof v->v[V_IP]);
    } else {
        apply_spec(v, s->pool[k->p.pool]);
    }
    apply_spec(v, k->p.spec);
    /* clock times the notes quote: the start of the activity, and a bit after the case opened */
    hhmm(k->p.start - rr(r, 8, 25) * MIN_MS, v->v[V_T0], sizeof v->v[V_T0]);
    hhmm(k->p.start + rr(r, 25, 70) * MIN_MS, v->v[V_T1], sizeof v->v[V_T1]);
    /* derived */
    size_t at = strcspn(v->v[V_USER], "@");
    snprintf(v->v[V_UID], sizeof v->v[V_UID], "%.*s", (int)at, v->v[V_USER]);
    if (!v->v[V_FILE][0])
        snprintf(v->v[V_FILE], sizeof v->v[V_FILE], "%s", "update.exe");
}

/* Write case i (0-based; its ref is i + 1) with n_alerts alerts; *start is when it
 * was opened. */
static vg_rc run_case(gen *g, int64_t i, int64_t n_alerts, int64_t *start_out)
{
    kase *k = vg_xcalloc(1, sizeof *k);
    vg_rc rc = VG_OK;
    k->r.s = case_seed(g->o->seed, i);
    make_plan(i, g->o->cases, g->now, &k->r, &k->p);
    k->s = &SCEN[k->p.scen];
    k->rich = i < NHAND;
    k->ref = i + 1;
    k->limit = g->now - SEC_MS;
    k->clock = k->p.start;
    *start_out = k->p.start;
    fill_vars(k);
    /* A duplicate points at the previous case of its kind (or the hand-made one). */
    if (k->p.res == R_DUP && !k->v.v[V_DUP][0]) {
        if (g->last_ref[k->p.scen])
            snprintf(k->v.v[V_DUP], sizeof k->v.v[V_DUP], "#%lld",
                     (long long)g->last_ref[k->p.scen]);
        else
            k->p.res = R_TP;
    }
    g->last_ref[k->p.scen] = k->ref;
    const scenario *s = k->s;
    const plan *p = &k->p;
    bool tp = p->res == R_TP || p->res == R_NONE;
    bool light = s->quiet || !tp;
    k->who = p->who >= 0 ? TEAM[p->who] : "";
    int64_t start = p->start;

    /* The alerts that raised it arrive first, in the inbox: one alert.import,
     * recorded when the last of them was, before the case exists. */
    int64_t ntrig = n_alerts < p->trig ? n_alerts : p->trig;
    vg_id trig_id[2];
    cJSON *trig = ntrig ? cJSON_CreateArray() : NULL;
    int64_t trig_ms = 0;
    for (int64_t j = 0; j < ntrig; j++) {
        int64_t ev = start - rr(&k->r, 4 * MIN_MS, 30 * MIN_MS);
        int64_t rec = ev + rr(&k->r, 2 * SEC_MS, 90 * SEC_MS);
        if (!k->first_alert)
            k->first_alert = ev;
        if (rec > trig_ms)
            trig_ms = rec;
        cJSON_AddItemToArray(trig, alert_el(g, &s->alerts[0], &k->v, &k->r, ev, rec, NULL,
                                            trig_id[j]));
    }
    if (trig && (rc = import_put(g, trig, ntrig, trig_ms)))
        goto out;
    /* The rest stream in while the case is worked. */
    k->n_alerts = n_alerts - ntrig;
    k->a_t0 = start + MIN_MS;
    int64_t aend = p->status == ST_CLOSED ? start + p->dur * 8 / 10
                                          : start + p->dur + (g->now - start - p->dur) / 2;
    if (aend > g->now - 3 * MIN_MS)
        aend = g->now - 3 * MIN_MS;
    k->a_span = aend > k->a_t0 ? aend - k->a_t0 : 1;
    if (!k->first_alert && k->n_alerts)
        k->first_alert = k->a_t0;
    set_alert_next(k);

    /* Opened by the analyst who picked it up, or by the correlation rule. */
    const char *opener = k->who[0] ? k->who : "vigil-demo";
    char title[512], desc[2048];
    expand(s->title, &k->v, title, sizeof title);
    expand(s->desc, &k->v, desc, sizeof desc);
    vg_ulid_seeded(start, &g->ids, k->id);
    op_start(g, "case.create", k->id, start, opener);
    cJSON *cp = g->op.payload;
    cJSON_AddNumberToObject(cp, "ref", (double)k->ref);
    cJSON_AddStringToObject(cp, "title", title);
    cJSON_AddStringToObject(cp, "description", desc);
    cJSON_AddStringToObject(cp, "severity", VG_SEVERITY.names[p->sev0]);
    cJSON_AddStringToObject(cp, "tlp", s->tlp);
    cJSON_AddStringToObject(cp, "pap", strcmp(s->tlp, "RED") == 0 ? "RED" : "AMBER");
    if (k->who[0])
        cJSON_AddStringToObject(cp, "assignee", k->who);
    add_list(cp, "tags", s->tags, k->v.v[V_TAG]);
    add_list(cp, "techniques", s->techs, NULL);
    if ((rc = op_put(g, &g->st.cases)))
        goto out;

    int64_t t = start;
    for (int64_t j = 0; j < ntrig; j++) {
        t += rr(&k->r, 5 * SEC_MS, 40 * SEC_MS);
        k->clock = t;
        op_start(g, "alert.set", trig_id[j], t, opener);
        cJSON_AddStringToObject(g->op.payload, "field", "status");
        cJSON_AddStringToObject(g->op.payload, "value", "linked");
        cJSON_AddStringToObject(g->op.payload, "case", k->id);
        if ((rc = op_put(g, NULL)))
            goto out;
    }

    int cur = ST_NEW;
    if (p->status != ST_NEW) {
        if (!k->who[0])
            k->who = TEAM[rr(&k->r, 0, NTEAM - 1)];
        if (strcmp(opener, "vigil-demo") == 0) {
            if ((rc = act(g, k, 20, &t)) ||
                (rc = case_set(g, k, t, LEAD, "assignee", k->who, NULL, NULL)))
                goto out;
        }
        if ((rc = act(g, k, 30, &t)) || (rc = status_to(g, k, t, ST_PROG, NULL, &cur)))
            goto out;
        if ((rc = act(g, k, 60, &t)) || (rc = artifacts(g, k, t, light)))
            goto out;
        /* A generated false positive is closed without a playbook. */
        int max_phase = light ? (k->rich ? P_ID : -1) : P_LL;
        if ((rc = act(g, k, 80, &t)) || (rc = tasks_add(g, k, t, max_phase)))
            goto out;
        if ((k->rich || !light || chance(&k->r, 50)) &&
            ((rc = act(g, k, 100, &t)) || (rc = note(g, k, t, k->who, s->triage))))
            goto out;
        if (!light && (k->rich || chance(&k->r, 30)) && (rc = act(g, k, 120, &t)) == VG_OK)
            rc = manual_events(g, k, t);
        if (rc)
            goto out;
        bool id_done = p->status != ST_PROG || chance(&k->r, 50);
        if ((rc = tasks_to(g, k, P_ID, id_done ? 2 : 1, 250)))
            goto out;
        if (p->sev0 != p->sev &&
            ((rc = act(g, k, 300, &t)) ||
             (rc = case_set(g, k, t, k->who, "severity", VG_SEVERITY.names[p->sev],
                            VG_SEVERITY.names[p->sev0], NULL))))
            goto out;
        if (!light && s->work && (k->rich || chance(&k->r, 50)) &&
            (rc = act(g, k, 350, &t)) == VG_OK)
            rc = note(g, k, t, k->who, s->work);
        if (rc)
            goto out;
        if (p->status == ST_HOLD) {
            if ((rc = act(g, k, 500, &t)) || (rc = note(g, k, t, k->who, s->hold)) ||
                (rc = act(g, k, 510, &t)) || (rc = status_to(g, k, t, ST_HOLD, NULL, &cur)))
                goto out;
        }
        if (tp && (p->status == ST_CONT || p->status == ST_CLOSED)) {
            if ((rc = tasks_to(g, k, P_CONT, 2, 600)) ||
                (rc = act(g, k, 660, &t)) || (rc = note(g, k, t, k->who, s->contain)) ||
                (rc = act(g, k, 700, &t)) || (rc = status_to(g, k, t, ST_CONT, NULL, &cur)))
                goto out;
        }
        if (p->status == ST_CLOSED) {
            const char *why;
            if (tp) {
                if ((rc = tasks_to(g, k, P_ERAD, 2, 780)) || (rc = tasks_to(g, k, P_REC, 2, 850)) ||
                    (rc = tasks_to(g, k, P_LL, chance(&k->r, 60) ? 2 : 3, 900)))
                    goto out;
                why = s->close;
            } else {
                if ((rc = tasks_to(g, k, -1, 3, 900)))
                    goto out;
                why = p->res == R_DUP ? "Duplicate of {dup}: the same activity, already "
                                        "handled there. Linking and closing."
                    : p->res == R_INDET ? "Could not settle it either way: the logs for the "
                                          "window rolled off before we got to them. Closing as "
                                          "indeterminate; detection left as is."
                    : s->benign;
            }
            const char *res = VG_RESOLUTION.names[p->res];
            if ((rc = act(g, k, 960, &t)) || (rc = note(g, k, t, k->who, why)) ||
                (rc = act(g, k, 1000, &t)) || (rc = status_to(g, k, t, ST_CLOSED, res, &cur)))
                goto out;
            if (tp && p->sev >= SV_HIGH && strcmp(k->who, LEAD) != 0 &&
                chance(&k->r, k->rich ? 60 : 15) &&
                ((rc = act(g, k, 1000, &t)) ||
                 (rc = note(g, k, t, LEAD, "Reviewed: good write-up. Please make sure the IOCs "
                                           "are in the MISP event and the related cases are "
                                           "linked before the weekly report."))))
                goto out;
        }
    }
    rc = flush_alerts(g, k, INT64_MAX);
out:
    free(k);
    return rc;
}

/* Inbox noise recorded around time `around`, held for its window's alert.import. */
static void inbox_alerts(gen *g, int64_t count, int64_t around)
{
    rng *r = &g->noise;
    vars *v = &g->nv;
    for (int64_t j = 0; j < count; j++) {
        const alert_tpl *a = &NOISE[rr(r, 0, NNOISE - 1)];
        int64_t ev = around + rr(r, -NOISE_SPREAD, NOISE_SPREAD);
        if (ev < g->month0)
            ev = g->month0 + rr(r, 0, HOUR_MS);
        if (ev > g->now - 3 * MIN_MS)
            ev = g->now - 3 * MIN_MS - rr(r, 0, HOUR_MS);
        int64_t rec = ev + rr(r, 2 * SEC_MS, 90 * SEC_MS);
        snprintf(v->v[V_HOST], sizeof v->v[V_HOST], "%s-%03d", DEPT_HOSTS[rr(r, 0, NDEPT - 1)],
                 (int)rr(r, 1, 240));
        rand_user(r, v->v[V_USER], sizeof v->v[V_USER]);
        size_t at = strcspn(v->v[V_USER], "@");
        snprintf(v->v[V_UID], sizeof v->v[V_UID], "%.*s", (int)at, v->v[V_USER]);
        rand_ext_ip(r, v->v[V_IP], sizeof v->v[V_IP]);
        rand_lip(r, v->v[V_LIP], sizeof v->v[V_LIP]);
        vset(v, V_CITY, CITY_PAIRS[rr(r, 0, NCITY - 1)][rr(r, 0, 1)]);
        rand_hex(r, v->v[V_HASH], 64);
        if (a->ents & (E_SENDER | E_DOM)) {
            /* reported phish and lookalikes mostly belong to the running campaigns */
            const scenario *s = &SCEN[a->raw == RAW_TI ? S_TI : S_PHISH];
            apply_spec(v, s->pool[rr(r, 0, pool_size(s) - 1)]);
        }
        if (g->nheld == g->held_cap) {
            g->held_cap = g->held_cap ? 2 * g->held_cap : 1024;
            g->held = vg_xrealloc(g->held, g->held_cap * sizeof *g->held);
        }
        held *h = &g->held[g->nheld++];
        h->rec = rec;
        h->n = g->held_n++;
        h->el = alert_el(g, a, v, r, ev, rec, NULL, h->id);
        /* Low-value noise is sometimes dismissed by whoever is on the queue. */
        h->dismiss = 0;
        if (a->sev <= VG_SEV_LOW && chance(r, 30)) {
            h->dismiss = rr(r, 5 * MIN_MS, 6 * HOUR_MS);
            h->who = TEAM[rr(r, 0, NTEAM - 1)];
        }
    }
}

static int held_cmp(const void *pa, const void *pb)
{
    const held *a = pa, *b = pb;
    if (a->rec != b->rec)
        return a->rec < b->rec ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* The held noise alerts h[0..n) (sorted, of one PULL_MS window) as one alert.import,
 * recorded when the last of them was, then their dismissals. */
static vg_rc inbox_pull(gen *g, held *h, size_t n)
{
    int64_t ms = h[n - 1].rec;
    if (ms <= g->pull_ms)
        ms = g->pull_ms + 1;
    g->pull_ms = ms;
    cJSON *alerts = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(alerts, h[i].el);
        h[i].el = NULL;
    }
    vg_rc rc = import_put(g, alerts, (int64_t)n, ms);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        int64_t when = ms + h[i].dismiss;
        if (!h[i].dismiss || when >= g->now - SEC_MS)
            continue;
        op_start(g, "alert.set", h[i].id, when, h[i].who);
        cJSON_AddStringToObject(g->op.payload, "field", "status");
        cJSON_AddStringToObject(g->op.payload, "value", "dismissed");
        rc = op_put(g, NULL);
    }
    return rc;
}

/* Write the held noise of every PULL_MS window that ends by horizon, the time before
 * which no case still to be written can record noise: each window's noise is one
 * alert.import (or a few, at most IMPORT_MAX each). The sort is done once a window
 * of horizon; what is held is about two NOISE_SPREADs of noise, plus the hand-made
 * cases' until the generated ones reach their days. */
static vg_rc inbox_flush(gen *g, int64_t horizon)
{
    int64_t cut = horizon == INT64_MAX ? INT64_MAX : horizon / PULL_MS * PULL_MS;
    if (cut <= g->inbox_cut || !g->nheld)
        return VG_OK;
    g->inbox_cut = cut;
    qsort(g->held, g->nheld, sizeof *g->held, held_cmp);
    size_t done = 0;
    vg_rc rc = VG_OK;
    while (rc == VG_OK && done < g->nheld && g->held[done].rec < cut) {
        size_t end = done + 1;
        int64_t pull = g->held[done].rec / PULL_MS;
        while (end < g->nheld && end - done < IMPORT_MAX && g->held[end].rec < cut &&
               g->held[end].rec / PULL_MS == pull)
            end++;
        rc = inbox_pull(g, g->held + done, end - done);
        done = end;
    }
    memmove(g->held, g->held + done, (g->nheld - done) * sizeof *g->held);
    g->nheld -= done;
    return rc;
}

/* The earliest a generated case i can start (make_plan spreads them evenly). */
static int64_t slot_start(const gen *g, int64_t i)
{
    int64_t span = MONTH_MS - 25 * MIN_MS, slots = g->o->cases - NHAND;
    return g->month0 + (int64_t)((double)span * (double)(i - NHAND) / (double)slots);
}

vg_rc vg_demo_build(vg_ws *ws, const vg_demo_opts *opts, vg_demo_stats *stats, vg_err *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!opts)
        return vg_fail(err, VG_EINVAL, "demo: no options");
    if (opts->cases < 40 || opts->cases > 1000000)
        return vg_fail(err, VG_EINVAL, "cases: %lld is out of range (40 to 1,000,000)",
                       (long long)opts->cases);
    if (opts->alerts < 0 || opts->alerts > 10000000)
        return vg_fail(err, VG_EINVAL, "alerts: %lld is out of range (0 to 10,000,000)",
                       (long long)opts->alerts);
    if (opts->now_ms < 2 * MONTH_MS || opts->now_ms >= (1LL << 47))
        return vg_fail(err, VG_EINVAL, "now: %lld ms is not a usable time",
                       (long long)opts->now_ms);
    vg_counts counts;
    bool bulk = false;
    vg_rc rc = vg_counts_get(ws, &counts, err);
    if (rc)
        return rc;
    if (counts.cases > 0)
        return vg_fail(err, VG_EEXIST,
                       "%s already holds %lld case%s; the demo fills an empty workspace",
                       vg_ws_path(ws), (long long)counts.cases, counts.cases == 1 ? "" : "s");

    gen *g = vg_xcalloc(1, sizeof *g);
    g->ws = ws;
    g->o = opts;
    g->err = err;
    g->now = opts->now_ms;
    g->month0 = opts->now_ms - MONTH_MS;
    uint64_t os = opts->seed ^ 0x5647494c44454d4fULL; /* "VGILDEMO" */
    vg_ulid_seeded(g->month0, &os, g->origin);
    g->ids = mix64(opts->seed + 0x1d5);
    g->ref_salt = mix64(opts->seed ^ 0xa1e27);
    g->noise.s = mix64(opts->seed ^ 0x7015e);

    /* Share the alert budget: inbox noise first, the rest by each case's weight. */
    int64_t n = opts->cases;
    int64_t inbox = opts->alerts * INBOX_PERCENT / 100;
    int64_t linked = opts->alerts - inbox;
    uint32_t *w = vg_xmalloc((size_t)n * sizeof *w);
    uint64_t wsum = 0;
    for (int64_t i = 0; i < n; i++) {
        rng r = {case_seed(opts->seed, i)};
        plan p;
        make_plan(i, n, g->now, &r, &p);
        w[i] = p.weight;
        wsum += p.weight;
    }

    /* As an import does: CHECK constraints repeat the door's own checks, and the
     * write-ahead log is copied into the file less often. */
    if ((rc = vg_ws_bulk(ws, true, err)))
        goto out;
    bulk = true;
    if ((rc = vg_batch_begin(ws, err)))
        goto out;
    /* linked <= 1e7 and wsum <= 1e6 * 2400, so the products fit in 64 bits. */
    uint64_t cum = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t before = (int64_t)((uint64_t)linked * cum / wsum), start;
        cum += w[i];
        int64_t upto = (int64_t)((uint64_t)linked * cum / wsum);
        if ((rc = run_case(g, i, upto - before, &start)))
            goto fail;
        int64_t ib = inbox * i / n, ie = inbox * (i + 1) / n;
        inbox_alerts(g, ie - ib, start);
        /* Noise of a later case lies at least NOISE_SPREAD before its start; the
         * generated cases start from the month's beginning again after the hand-made. */
        int64_t horizon = i + 1 >= n ? INT64_MAX
                        : i + 1 < NHAND ? g->month0 : slot_start(g, i + 1) - NOISE_SPREAD;
        if ((rc = inbox_flush(g, horizon)))
            goto fail;
    }
    if ((rc = vg_batch_commit(ws, err)))
        goto out;
    if (opts->progress && g->in_batch > 0)
        opts->progress(opts->ud, g->st.ops, g->st.alerts);
    if (stats)
        *stats = g->st;
    goto out;
fail:
    vg_batch_rollback(ws);
out:
    if (bulk) {
        vg_err e2;
        if (vg_ws_bulk(ws, false, &e2) != VG_OK && rc == VG_OK) {
            *err = e2;
            rc = VG_EDB;
        }
    }
    for (size_t i = 0; i < g->nheld; i++)
        cJSON_Delete(g->held[i].el);
    free(g->held);
    cJSON_Delete(g->op.payload);
    free(g->op.actor);
    free(w);
    free(g);
    return rc;
}
