/* dissect/dissect.h — the dissect module's contract, in three parts:
 *
 *   dissect/registry.h  the field registry and the field mask
 *   dissect/packet.h    the per-packet record decoders fill and consumers read
 *   dissect/decoders.h  the decoders and their dispatch table
 *
 * Code outside the module includes the part it uses; this header, all three, is for the
 * few places that use them all (tests, fuzz harnesses).
 */
#ifndef PKTSCOPE_DISSECT_DISSECT_H
#define PKTSCOPE_DISSECT_DISSECT_H

#include "dissect/registry.h"
#include "dissect/packet.h"
#include "dissect/decoders.h"

#endif
