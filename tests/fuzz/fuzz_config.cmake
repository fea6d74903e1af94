weir_fuzz_target(config weir_service)
