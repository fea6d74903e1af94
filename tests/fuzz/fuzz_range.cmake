weir_fuzz_target(range weir_service)
