weir_fuzz_target(decode weir_schemas)
