/* nn/sequential.c — the Sequential container (children "0", "1", ... applied in order),
 * nb_container_new (named children, a custom or the sequential forward) and nb_child_forward
 * (a custom forward's call of a child). */
#include "nabla/nn.h"

#include <stdio.h>

/* Marks a module as a Sequential (its user_data). */
static char sequential_tag;

/* Runs inside a step: nb_module_forward gives a call with no active step a private one. */
static nb_tensor *sequential_forward(nb_module *m, nb_tensor *x)
{
    const int n = nb_module_num_children(m);
    for (int i = 0; i < n && x; i++)
        x = nb_module_forward(nb_module_child_at(m, i), x);
    return x;
}

nb_status nb_sequential_append(nb_module *seq, nb_module *module)
{
    if (!seq || nb_module_user_data(seq) != &sequential_tag || nb_module_parent(seq) ||
        nb_module_num_children(seq) >= 1000000) {
        nb_status st =
            nb_set_error(!seq ? NB_ERR_VALUE : NB_ERR_STATE, "nb_sequential_append: %s",
                         !seq ? "container is NULL" : "not a Sequential without a parent");
        if (module && !nb_module_parent(module))
            nb_module_free(module);
        return st;
    }
    char name[16];
    snprintf(name, sizeof name, "%d", nb_module_num_children(seq));
    return nb_module_add_child(seq, name, module);
}

nb_module *nb_sequential_new(int n, nb_module *const *modules)
{
    nb_status st = NB_OK;
    if (n < 0 || (n > 0 && !modules))
        st = nb_set_error(NB_ERR_VALUE, "nb_sequential_new: need n >= 0 modules, got %d", n);
    for (int i = 0; i < n && modules && st == NB_OK; i++)
        if (!modules[i])
            st = nb_set_error(NB_ERR_VALUE,
                              "nb_sequential_new: module %d is NULL (its constructor failed)", i);
    nb_module *seq =
        st == NB_OK ? nb_module_new("Sequential", NB_F32, sequential_forward, &sequential_tag, NULL)
                    : NULL;
    for (int i = 0; i < n && modules; i++) {
        if (!seq) {
            if (modules[i] && !nb_module_parent(modules[i]))
                nb_module_free(modules[i]);
        } else if (nb_sequential_append(seq, modules[i]) != NB_OK) {
            nb_module_free(seq);
            seq = NULL;
        }
    }
    return seq;
}

nb_module *nb_container_new(const char *kind, nb_module_forward_fn forward, void *user_data,
                            nb_module_free_fn free_user, int n, const nb_named_module *children)
{
    nb_status st = NB_OK;
    if (n < 0 || (n > 0 && !children))
        st = nb_set_error(NB_ERR_VALUE, "nb_container_new: need n >= 0 children, got %d", n);
    for (int i = 0; i < n && children && st == NB_OK; i++)
        if (!children[i].module)
            st = nb_set_error(NB_ERR_VALUE,
                              "nb_container_new: child %d \"%s\" is NULL (its constructor failed)",
                              i, children[i].name ? children[i].name : "(NULL)");
    nb_module *m = NULL;
    if (st == NB_OK)
        m = nb_module_new(kind, NB_F32, forward ? forward : sequential_forward, user_data,
                          free_user);
    else if (free_user && user_data)
        free_user(user_data);
    for (int i = 0; i < n && children; i++) {
        nb_module *c = children[i].module;
        if (!m) {
            if (c && !nb_module_parent(c))
                nb_module_free(c);
        } else if (nb_module_add_child(m, children[i].name, c) != NB_OK) {
            nb_module_free(m); /* frees user_data and the children added so far */
            m = NULL;
        }
    }
    return m;
}

nb_tensor *nb_child_forward(nb_module *m, const char *path, nb_tensor *x)
{
    nb_module *child = nb_module_child(m, path);
    return child ? nb_module_forward(child, x) : NULL;
}
