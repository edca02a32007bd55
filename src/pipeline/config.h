/* pipeline/config.h — the configuration file: $XDG_CONFIG_HOME/pktscope/config.toml (default
 * ~/.config/pktscope/config.toml), or --config FILE. The TOML subset it uses is parsed
 * here by hand (no TOML library is packaged for C): tables, bare keys, basic and literal
 * strings, integers, booleans, comments. A file that is not right names the line and the
 * problem; nothing in it is ignored silently (an unknown key is an error).
 *
 *   [capture]  default_interface = "eth0"   snaplen = 262144   buffer_mb = 4
 *              disk_budget_mb = 1024        (the full-screen capture's file at most)
 *   [display]  color_scheme = "auto"        (auto, dark, light, mono)
 *   [filters]  https = "tcp.port == 443"    (recalled as -Y :https)
 *   [monitor]  interfaces = "eth0,wlan0"    capture_filter = "not port 22"
 *              state_dir = "/var/lib/pktscope"   geoip_country_db = "…"   geoip_asn_db = "…"
 *              retention_days = 30          max_db_mb = 1024   ebpf = true
 *              geoip_url = "https://…/dbip-{db}-lite-{month}.mmdb.gz"   (pktscope geoip update)
 */
#ifndef PKTSCOPE_PIPELINE_CONFIG_H
#define PKTSCOPE_PIPELINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_BYTES (1u << 20)  /* a bigger file is refused, not read */
#define CONFIG_MAX_FILTERS 1024

struct saved_filter {
	char *name;
	char *expr;
};

struct config {
	char *path;               /* the file read, or NULL when there was none */
	char *default_interface;  /* NULL: not set */
	int snaplen;              /* 0: not set */
	int buffer_mb;            /* 0: not set */
	int disk_budget_mb;       /* the full-screen capture's file at most; 0: not set */
	char *color_scheme;       /* NULL: not set */
	struct saved_filter *filters;
	size_t nfilters;
	struct {                  /* [monitor]: NULL / 0 when not set */
		char *interfaces;     /* comma-separated */
		char *capture_filter;
		char *state_dir;
		char *geoip_country_db, *geoip_asn_db;
		char *geoip_url;      /* `geoip update`'s source: {db} country or asn, {month} YYYY-MM */
		int retention_days;   /* connection rows older than this go */
		int max_db_mb;        /* the store at most (the oldest connection rows go) */
		int ebpf;             /* 0 not set, 1 true, -1 false */
		int64_t learning_ms;  /* the baseline's learning period */
		int64_t volume_interval_ms, cooldown_ms;
		int volume_floor_mb, volume_window, volume_min_samples;
		int journal;          /* alerts to the journal: 0 not set (yes), 1, -1 */
	} mon;
};

/* Reads the configuration: `path` (--config; must exist), else the default location (a
 * missing file there is no error). 0, or -1 with "FILE:LINE: problem" in err. */
int config_load(const char *path, struct config *c, char *err, size_t errlen);
/* Parses text (len bytes; need not be NUL-terminated) named `name` in messages. */
int config_parse(const char *text, size_t len, const char *name, struct config *c, char *err, size_t errlen);
/* The saved filter called name, or NULL. */
const char *config_filter(const struct config *c, const char *name);
void config_free(struct config *c);

#endif
