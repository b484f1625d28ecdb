package imds

// HealthReporter is implemented by stores whose backend can become
// unreachable while the process keeps running, so that health endpoints can
// report it.
type HealthReporter interface {
	// Health returns nil while the store is in step with its backend, and
	// otherwise an error wrapping ErrUnavailable that says why.
	Health() error
}
