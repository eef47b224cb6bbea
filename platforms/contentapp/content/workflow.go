package content

import "slices"

// Workflow states of a document. Every document starts as a draft; the
// workflow component lets users move it along.
const (
	Draft     = "draft"
	Review    = "review"
	Published = "published"
)

// TransitionInput is the body of a workflow transition request.
type TransitionInput struct {
	To string `json:"to"`
}

// transitions lists the states reachable from each state: forward through
// review, back to draft from review (rejected) or published (withdrawn).
var transitions = map[string][]string{
	Draft:     {Review},
	Review:    {Published, Draft},
	Published: {Draft},
}

// NextStates returns the states a document in state from may move to.
func NextStates(from string) []string { return slices.Clone(transitions[from]) }

// KnownState reports whether s is a workflow state.
func KnownState(s string) bool { _, ok := transitions[s]; return ok }

// CanTransition reports whether a document may move from one state to another.
func CanTransition(from, to string) bool { return slices.Contains(transitions[from], to) }
