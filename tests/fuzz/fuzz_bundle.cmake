weir_fuzz_target(bundle weir_scoring)
