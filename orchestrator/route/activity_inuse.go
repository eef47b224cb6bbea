package route

// InUse lists the tenants with a request in flight now, for the admin
// dashboard's count of active tenants.
func (a *Activity) InUse() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var ids []string
	for id, t := range a.tenants {
		if t.inflight.Load() > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}
