/* egress/annotate.h — the egress engine's attribution lent to the analyzer: during a live
 * capture, each packet gets the proc.* fields (pid, name, exe, uid, cmdline) of the
 * process on this machine that sent or received it, looked up once per flow (proc.h) and
 * recorded by the pipeline's post hook, so `-Y 'proc.name == "curl"'`, NDJSON, pcapng
 * comments and the TUI's Process column all read the same values. */
#ifndef PKTSCOPE_EGRESS_ANNOTATE_H
#define PKTSCOPE_EGRESS_ANNOTATE_H

#include "dissect/packet.h"
#include "dissect/registry.h"
#include "egress/proc.h"
#include "flow/flow.h"

struct proc_annotator;
/* pa must outlive the annotator. */
struct proc_annotator *pann_new(struct proc_attr *pa);
void pann_free(struct proc_annotator *a);
/* Give both to the run's pipeline: the observer (pipeline_needs.observer) finds each flow's
 * process, the post hook (pipeline_needs.post, ctx the annotator) records its fields. */
const struct flow_observer *pann_observer(struct proc_annotator *a);
void pann_post(void *ctx, struct packet *p);
/* The fields pann_post records, added to m (pipeline_needs.extra). */
void pann_mask_add(struct field_mask *m);
/* Whether a need reads any proc.* field (the filter, -e, a mask). */
bool pann_wanted(const struct field_mask *m);

struct pann_stats { uint64_t flows, attributed, unknown; };
void pann_stats(const struct proc_annotator *a, struct pann_stats *st);

#endif
