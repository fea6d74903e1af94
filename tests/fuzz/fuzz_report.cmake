weir_fuzz_target(report weir_service)
