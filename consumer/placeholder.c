/* placeholder: replaced when the module lands */
typedef int weir_consumer_placeholder_t;
