package experiments

// Catalog returns every experiment, in the order `fbrun experiments` lists
// them. Selection by name is a plain lookup in this list, not init()
// self-registration; `fbrun new experiment` adds a line above the marker.
func Catalog() []Experiment {
	return []Experiment{
		Smoke{},
		ColdStart{},
		IdleTimeout{},
		InstanceLifetime{},
		Scaling{},
		Load{},
		Throughput{},
		Nested{},
		PackageSize{},
		ClockOffsetExp{},
		// fbrun:new-experiment (keep this marker: the scaffold inserts above it)
	}
}
