/* tests/ops/custom_typed_kernels.h — the kernels of the typed-slot user op of test_custom_op.c
 * (y = x^3), written once over T with nabla/typed.h: NB_FN(name) is name_f32 or name_f64. */

/* y = x^3 */
static nb_status NB_FN(cube_fwd)(nb_op_ctx *c)
{
    const T *x = nb_tensor_data(nb_op_input(c, 0));
    T *y = nb_tensor_data(nb_op_output(c));
    for (int64_t i = 0; i < nb_tensor_numel(nb_op_output(c)); i++)
        y[i] = x[i] * x[i] * x[i];
    return NB_OK;
}

/* dx += 3 x^2 dy */
static void NB_FN(cube_bwd)(nb_op_ctx *c)
{
    nb_tensor *gx = nb_op_grad_input(c, 0);
    if (!gx)
        return;
    const T *x = nb_tensor_data(nb_op_input(c, 0)), *dy = nb_tensor_data(nb_op_grad_output(c));
    T *dx = nb_tensor_data(gx);
    for (int64_t i = 0; i < nb_tensor_numel(gx); i++)
        dx[i] += 3 * x[i] * x[i] * dy[i];
}
