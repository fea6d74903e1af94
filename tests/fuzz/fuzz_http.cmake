weir_fuzz_target(http weir_service)
