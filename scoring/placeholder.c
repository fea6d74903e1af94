/* placeholder: replaced when the module lands */
typedef int weir_scoring_placeholder_t;
