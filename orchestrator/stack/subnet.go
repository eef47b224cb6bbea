package stack

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"appfactory/apperr"
)

// DefaultSubnetPool is where tenant networks take their subnets from: a
// /16 holds 4,096 tenants of a /28 each. Docker's own default pools hold
// only about thirty user networks.
const DefaultSubnetPool = "10.213.0.0/16"

// TenantSubnetBits is the prefix length of one tenant network: 16
// addresses, 13 usable by containers (network, gateway and broadcast aside).
const TenantSubnetBits = 28

// blockFor is how long a subnet the engine refused (it overlaps a network
// appfactory did not make) is skipped before being tried again.
const blockFor = 10 * time.Minute

// SubnetPool hands out /28 subnets of a pool. Which subnets are in use is
// the database's to say (tenants.subnet); the pool only remembers those the
// engine refused.
type SubnetPool struct {
	prefix netip.Prefix
	now    func() time.Time

	mu      sync.Mutex
	blocked map[string]time.Time
}

// NewSubnetPool parses a pool such as "10.213.0.0/16".
func NewSubnetPool(cidr string) (*SubnetPool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return nil, fmt.Errorf("subnet pool %q: want an IPv4 network such as %s", cidr, DefaultSubnetPool)
	}
	if p.Bits() > TenantSubnetBits {
		return nil, fmt.Errorf("subnet pool %q: smaller than one /%d", cidr, TenantSubnetBits)
	}
	if p.Bits() < 8 {
		return nil, fmt.Errorf("subnet pool %q: larger than a /8", cidr)
	}
	return &SubnetPool{prefix: p, now: time.Now, blocked: map[string]time.Time{}}, nil
}

// String is the pool's prefix.
func (p *SubnetPool) String() string { return p.prefix.String() }

// Size is how many tenant subnets the pool holds.
func (p *SubnetPool) Size() int { return 1 << (TenantSubnetBits - p.prefix.Bits()) }

// Contains reports whether a subnet lies in the pool.
func (p *SubnetPool) Contains(subnet string) bool {
	s, err := netip.ParsePrefix(subnet)
	return err == nil && s.Bits() == TenantSubnetBits && p.prefix.Contains(s.Addr())
}

// Pick returns the lowest subnet neither used nor recently refused.
func (p *SubnetPool) Pick(used map[string]bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	base := p.prefix.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	step := uint32(1) << (32 - TenantSubnetBits)
	for i := 0; i < p.Size(); i++ {
		a := start + uint32(i)*step
		s := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), TenantSubnetBits).String()
		if used[s] {
			continue
		}
		if until, ok := p.blocked[s]; ok {
			if now.Before(until) {
				continue
			}
			delete(p.blocked, s)
		}
		return s, nil
	}
	return "", apperr.New(apperr.Unavailable, "No network address range is free for a new deployment (pool %s is full). Delete unused deployments or widen --subnet-pool.", p.prefix)
}

// Block skips a subnet for a while: the engine refused it because a network
// appfactory did not make overlaps it.
func (p *SubnetPool) Block(subnet string) {
	p.mu.Lock()
	p.blocked[subnet] = p.now().Add(blockFor)
	p.mu.Unlock()
}
