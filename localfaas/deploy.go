package localfaas

import (
	"fmt"
	"net/http"
)

// Deploy adds a function. It fails if the spec is invalid or the name is
// taken.
func (p *Platform) Deploy(spec FunctionSpec) error {
	_, err := p.deploy(spec, functionMeta{codeKey: "api"})
	return err
}

func (p *Platform) deploy(spec FunctionSpec, meta functionMeta) (*function, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("localfaas: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errServiceUnavailable("the platform is shutting down")
	}
	if _, ok := p.funcs[spec.Name]; ok {
		return nil, &apiError{status: http.StatusConflict, Type: "ResourceConflictException",
			Message: "Function already exist: " + spec.Name}
	}
	f := newFunction(p, spec, meta)
	p.funcs[spec.Name] = f
	return f, nil
}

// Delete removes a function and kills its instances (reason deleted).
func (p *Platform) Delete(name string) error {
	p.mu.Lock()
	f := p.funcs[name]
	delete(p.funcs, name)
	p.mu.Unlock()
	if f == nil {
		return fmt.Errorf("localfaas: no function %q", name)
	}
	f.retire(ReasonDeleted, true, true)
	return nil
}
