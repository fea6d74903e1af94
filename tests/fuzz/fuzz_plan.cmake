weir_fuzz_target(plan weir_schemas)
