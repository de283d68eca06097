// Package curation decides, from curators' signed votes, whether a
// contribution to a Datanet is accepted: the tally every node runs.
//
// It is a pure core, like etcd's raft state machine: [Tally] and [TallyAll]
// are functions of a [Policy], the contributions' creation times, the votes
// and the current time, passed in. Nothing here reads a clock, a disk or
// the network, so every node that holds the same votes computes the same
// [Result], and a snapshot's evidence can be rechecked by anyone.
//
// It does not verify signatures, chain IDs or which Datanet a vote names:
// votes come from the datanet package (decoded and checked by
// [datanet.Vote.Verify] at the gossip validator) and the caller tallies
// only votes it has verified. Nor does it store votes or hold the policy of
// a Datanet; the daemon feeds both in.
//
// The rules deciding whether a vote can count (a curator, inside the
// window) have one home here, used by the tally and, through [Rules], by
// the datanet registry's gate for every vote it stores: a node never keeps a
// vote its tally would ignore for these reasons. The daemon passes Rules{}
// in datanet.Config.
//
// # Rules
//
//   - Only curators count: a vote by an address without a positive weight
//     in Policy.Curators is ignored (a removed curator's votes too).
//   - The voting window of a contribution created at c is [c, c+Window):
//     inclusive at the start, exclusive at the end, to the second of the
//     vote's Created. Votes outside it are ignored. The window is over when
//     now ≥ c+Window. Window 0 means no deadline.
//   - The latest vote per curator counts: the highest Seq among the
//     curator's votes inside the window. Two different votes with the same
//     Seq (a curator equivocating) are ordered by the bytes of their CIDs;
//     the lower CID counts. Identical votes are one vote.
//   - Accepted: cast weight ≥ Quorum and approve·10000 ≥ ThresholdBps·cast.
//   - Rejected: not accepted, and acceptance can no longer happen: the
//     window is over with the quorum met, or the window is open and even if
//     every curator without a counted vote approved, it would not be
//     accepted.
//   - Expired: the window is over without the quorum.
//   - Pending: otherwise.
//
// While the window is open a curator may change their vote (a higher Seq),
// so Accepted and Rejected are the verdicts of the votes known at now; once
// the window is over no vote can change them.
package curation
