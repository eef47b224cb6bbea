// Package domain is the vocabulary every part of appfactory speaks: the
// application model and assembly a user designs, the states of a tenant and
// the kinds of its events, and which requests belong to the API. It imports
// nothing of ours and no library beyond the standard one, so that store,
// catalog, orchestrator, views and handlers can all depend on it.
package domain
