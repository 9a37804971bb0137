package livechat

import (
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// staffTTL is how long a project's staff list is reused by the hot paths
// that only ask "is anyone online" or "who hears this typing": every
// visitor message to an unserved dialog asks, and a project may have
// hundreds of specialists. A change made on this node is seen at once; one
// made on another node (or through a group's members) within staffTTL.
const staffTTL = 2 * time.Second

// staffCache holds recent project staff lists.
type staffCache struct {
	mu sync.Mutex
	m  map[int64]staffEntry
}

type staffEntry struct {
	at    time.Time
	staff []parley.StaffRole
}

// projectStaff returns a project's staff, read at most staffTTL ago; the
// list is shared and must not be changed.
func (s *Service) projectStaff(ctx context.Context, projectID int64) ([]parley.StaffRole, error) {
	now := time.Now() // real time: the service's clock may be a test's script
	s.staff.mu.Lock()
	e, ok := s.staff.m[projectID]
	s.staff.mu.Unlock()
	if ok && now.Sub(e.at) < staffTTL {
		return e.staff, nil
	}
	staff, err := s.store.ProjectStaff(ctx, projectID)
	if err != nil {
		return nil, err
	}
	s.staff.mu.Lock()
	if s.staff.m == nil {
		s.staff.m = map[int64]staffEntry{}
	}
	s.staff.m[projectID] = staffEntry{at: now, staff: staff}
	s.staff.mu.Unlock()
	return staff, nil
}

// forgetStaff drops a project's cached staff after a change to it.
func (s *Service) forgetStaff(projectID int64) {
	s.staff.mu.Lock()
	delete(s.staff.m, projectID)
	s.staff.mu.Unlock()
}
