/* placeholder: replaced when the module lands */
typedef int weir_producer_placeholder_t;
